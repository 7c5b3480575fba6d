/// Standard base64 (RFC 4648 §4, with padding), as WireGuard tools print keys.
///
/// Decoding is strict: only canonical, padded input is accepted, so one value has exactly one encoding.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(value) }
        return table
    }()

    /// The base64 text of `bytes`.
    ///
    /// Writes the characters straight into the new string's storage, with the alphabet read once: the hub encodes a
    /// sender's key for every relayed message (and once encoded every sealed box this way).
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let input = Array(bytes)
        let alphabet = alphabet
        let length = (input.count + 2) / 3 * 4
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { out in
            var index = 0
            var written = 0
            func put(_ symbol: UInt8) {
                out[written] = symbol
                written += 1
            }
            while index + 3 <= input.count {
                let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                put(alphabet[Int(chunk >> 18 & 63)])
                put(alphabet[Int(chunk >> 12 & 63)])
                put(alphabet[Int(chunk >> 6 & 63)])
                put(alphabet[Int(chunk & 63)])
                index += 3
            }
            let rest = input.count - index
            if rest > 0 {
                let chunk = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                put(alphabet[Int(chunk >> 18 & 63)])
                put(alphabet[Int(chunk >> 12 & 63)])
                put(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
                put(UInt8(ascii: "="))
            }
            return written
        }
    }

    /// How many bytes `text` encodes, or nil when it is not canonical padded base64: the same check as `decode`,
    /// without building the bytes. The hub checks sealed boxes this way and passes their text on as received.
    public static func canonicalByteCount(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { canonicalByteCount($0) }
    }

    /// `canonicalByteCount` of base64 text given as bytes (a field scanned in place in a received frame).
    static func canonicalByteCount(_ input: UnsafeBufferPointer<UInt8>) -> Int? {
        var count = 0
        return walkQuanta(input) { _, padding in count += 3 - padding } ? count : nil
    }

    /// The bytes encoded by `text`, or nil when it is not canonical padded base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// `decode` of base64 text given as bytes (a field scanned in place in a received frame).
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(input.count / 4 * 3)
        let canonical = walkQuanta(input) { chunk, padding in
            out.append(UInt8(chunk >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(chunk >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(chunk & 0xFF)) }
        }
        return canonical ? out : nil
    }

    /// Reads padded base64 four characters at a time, handing each quantum's 24 bits and its padding (0 to 2, only in
    /// the last quantum) to `body`; false, part way through, when `input` is not canonical (a character outside the
    /// alphabet, a length not a multiple of 4, or bits that the padding drops set).
    @inline(__always)
    private static func walkQuanta(_ input: UnsafeBufferPointer<UInt8>, _ body: (UInt32, Int) -> Void) -> Bool {
        guard input.count % 4 == 0 else { return false }
        // Read once: the table is a lazily initialised global, and reading it per character checked its
        // initialisation (`swift_once`) every time, 3 % of the hub's CPU at 20,000 msg/s.
        let reverse = reverse
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            let padding = isLast ? (input[index + 3] == UInt8(ascii: "=") ? (input[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var chunk: UInt32 = 0
            for offset in 0..<(4 - padding) {
                let value = reverse[Int(input[index + offset])]
                guard value != 0xFF else { return false }
                chunk |= UInt32(value) << (18 - 6 * offset)
            }
            // Canonical form: the bits that padding drops must be zero.
            if padding == 2, chunk & 0xFFFF != 0 { return false }
            if padding == 1, chunk & 0xFF != 0 { return false }
            body(chunk, padding)
            index += 4
        }
        return true
    }
}
