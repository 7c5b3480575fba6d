/// Reads a signaling frame (`offer`, `answer`, `candidate`, `end_of_candidates`, `restart`) straight from its UTF-8
/// bytes, without building a `JSONValue` tree: the hub's fast path for the message it receives most.
///
/// It accepts only what `ClientMessage.decode`'s generic path accepts, with the same result, and gives up (nil) on
/// anything else: a refusal of any kind, and the accepted forms it does not handle (escapes in any string, an `id` of
/// `null`, another message type). The caller then decodes the frame the generic way, which names the error, so every
/// refusal keeps its code and text. The checks are the generic path's: strict JSON structure (whitespace, commas,
/// nothing after the object), no duplicate or unknown field (a client `from` included), `to` a public key of 32 bytes
/// of canonical base64, the sealed box's `nonce` 24 bytes and `box` more than its authenticator and at most
/// `Limits.maximumSealedBytes` (both canonical base64, kept as text), an `id` of valid UTF-8 within
/// `Limits.maximumMessageIDLength` bytes, and the frame within `Limits.maximumFrameBytes`.
enum SignalFrameScanner {
    /// The signal `text` holds, or nil when the generic decoder must decide (see the type's comment).
    static func signal(in text: String) -> OutgoingSignal? {
        guard text.utf8.count <= Limits.maximumFrameBytes else { return nil }
        var text = text
        return text.withUTF8 { bytes in
            var cursor = Cursor(bytes: bytes)
            return cursor.signal()
        }
    }

    /// The fields of a signal frame as byte ranges of the frame, before their values are checked.
    private struct Fields {
        var type: Range<Int>?
        var to: Range<Int>?
        var nonce: Range<Int>?
        var box: Range<Int>?
        var id: Range<Int>?
        var sealedSeen = false
    }

    /// A position in the frame's bytes; every method returns nil (or false) where the generic decoder must take over.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func signal() -> OutgoingSignal? {
            var fields = Fields()
            guard readObject({ cursor, key in cursor.topField(key, &fields) }) else { return nil }
            skipSpace()
            guard index == bytes.count, let type = fields.type, let to = fields.to, let nonce = fields.nonce,
                  let box = fields.box, let kind = Self.kind(slice(type)) else { return nil }
            let toText = slice(to)
            guard toText.count <= 64, let keyBytes = Base64.decode(toText), keyBytes.count == 32,
                  let key = try? PublicKey(bytes: keyBytes) else { return nil }
            let nonceText = slice(nonce)
            guard nonceText.count <= (SealedBox.nonceBytes + 2) / 3 * 4,
                  Base64.canonicalByteCount(nonceText) == SealedBox.nonceBytes else { return nil }
            let boxText = slice(box)
            guard boxText.count <= (Limits.maximumSealedBytes + 2) / 3 * 4, let boxBytes = Base64.canonicalByteCount(boxText),
                  boxBytes > SealedBox.macBytes, boxBytes <= Limits.maximumSealedBytes else { return nil }
            var id: String?
            if let range = fields.id {
                guard range.count <= Limits.maximumMessageIDLength,
                      let text = String(validating: slice(range), as: UTF8.self) else { return nil }
                id = text
            }
            let sealed = SealedBox(checkedNonceText: String(decoding: nonceText, as: UTF8.self),
                                   boxText: String(decoding: boxText, as: UTF8.self))
            return OutgoingSignal(kind: kind, to: key, sealed: sealed, id: id)
        }

        /// Reads one field of the frame's object, whose key is `key`; false for a duplicate or any other field.
        private mutating func topField(_ key: UnsafeBufferPointer<UInt8>, _ fields: inout Fields) -> Bool {
            if Self.equals(key, "type") { return stringField(&fields.type) }
            if Self.equals(key, "to") { return stringField(&fields.to) }
            if Self.equals(key, "id") { return stringField(&fields.id) }
            guard Self.equals(key, "sealed"), !fields.sealedSeen else { return false }
            fields.sealedSeen = true
            return readObject { cursor, key in
                if Self.equals(key, "nonce") { return cursor.stringField(&fields.nonce) }
                if Self.equals(key, "box") { return cursor.stringField(&fields.box) }
                return false
            }
        }

        /// Reads a string value into `field`, which must not be set yet.
        private mutating func stringField(_ field: inout Range<Int>?) -> Bool {
            guard field == nil, let range = plainString() else { return false }
            field = range
            return true
        }

        /// Reads `{ "key": value, … }` from the current byte, handing each key to `field`, which reads its value.
        /// An empty object is left to the generic decoder (it misses required fields).
        private mutating func readObject(_ field: (inout Cursor, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return false }
            while true {
                skipSpace()
                guard let key = plainString() else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard field(&self, slice(key)) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        }

        /// The content of a string without escapes or control characters starting at the current byte (its quotes
        /// excluded); nil otherwise. Its UTF-8 is not checked here: each value's own check does that.
        private mutating func plainString() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<(index - 1)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[range])
        }

        private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
            bytes.count == word.utf8CodeUnitCount
                && bytes.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
        }

        private static func kind(_ bytes: UnsafeBufferPointer<UInt8>) -> SignalKind? {
            if equals(bytes, "offer") { return .offer }
            if equals(bytes, "answer") { return .answer }
            if equals(bytes, "candidate") { return .candidate }
            if equals(bytes, "end_of_candidates") { return .endOfCandidates }
            if equals(bytes, "restart") { return .restart }
            return nil
        }
    }
}
