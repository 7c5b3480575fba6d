/// A peer's X25519 public key: its WireGuard public key and its identity in a network.
///
/// On the wire it is 32 bytes in standard base64 (44 characters), exactly as `wg pubkey` prints it.
public struct PublicKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The key's 32 bytes.
    public let bytes: [UInt8]
    /// The same bytes as four words, compared and hashed instead of the array: the hub looks a recipient up by key
    /// for every relayed message, and the array's byte-by-byte equality and hashing were 3 % of its CPU.
    private let words: Words

    private struct Words: Hashable {
        var first, second, third, fourth: UInt64

        init(_ bytes: [UInt8]) {
            func word(_ start: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in start..<start + 8 { value = value << 8 | UInt64(bytes[index]) }
                return value
            }
            (first, second, third, fourth) = (word(0), word(8), word(16), word(24))
        }
    }

    /// Wraps 32 key bytes; fails with `invalid_value` for any other length.
    public init(bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count == 32 else { throw ProtocolError(.invalidValue, "a public key is 32 bytes, not \(bytes.count)") }
        self.bytes = bytes
        words = Words(bytes)
    }

    /// Parses the base64 form; fails with `invalid_value` when it is not 32 bytes of canonical base64.
    public init(base64 text: String) throws(ProtocolError) {
        guard let decoded = Base64.decode(text), decoded.count == 32 else {
            throw ProtocolError(.invalidValue, "not a base64 X25519 public key")
        }
        try self.init(bytes: decoded)
    }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.words == rhs.words }

    public func hash(into hasher: inout Hasher) { hasher.combine(words) }

    /// The base64 form used on the wire and by `wg`.
    public var base64: String { Base64.encode(bytes) }

    /// Lowercase hexadecimal, as WireGuard's UAPI writes keys.
    public var hex: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    public var description: String { base64 }

    /// Byte-wise order. The peer whose key sorts first is the ICE controlling side and sends offers.
    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
