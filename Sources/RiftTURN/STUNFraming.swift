/// RFC 5389 framing, written once for the hub's STUN responder (`STUNMessage`) and the TURN probe (`TURNMessage`): the
/// 20-byte header and the type-length-value attributes, each padded to a multiple of 4 bytes.
public enum STUNFraming {
    /// One attribute as it lies in a message: where it starts, its type, where its value is, where the next one starts.
    public struct Attribute {
        /// The offset of the attribute's own header in the message.
        public var start: Int
        /// The attribute type.
        public var type: UInt16
        /// The value's bytes, without padding.
        public var value: Range<Int>
        /// The offset after the value and its padding.
        public var end: Int
    }

    /// A message header: type, length, then `id16`, the 16 bytes that are cookie and transaction id (RFC 5389) or the
    /// classic transaction id (RFC 3489).
    public static func header(_ type: UInt16, length: Int, id16: [UInt8]) -> [UInt8] {
        bytes(type) + bytes(UInt16(length)) + id16
    }

    /// One attribute, padded.
    public static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        bytes(type) + bytes(UInt16(value.count)) + value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    /// Calls `visit` for each attribute after the header, in order, until it returns false. Returns false when an
    /// attribute is truncated (its header or its value runs past the end of `message`), true otherwise. Fewer than 4
    /// bytes left after the last attribute count as truncation only when `strict`.
    @discardableResult
    public static func readAttributes(_ message: [UInt8], strict: Bool = true, _ visit: (Attribute) -> Bool) -> Bool {
        var offset = 20
        while offset < message.count {
            guard offset + 4 <= message.count else { return !strict }
            let length = Int(uint16(message, at: offset + 2))
            let value = (offset + 4)..<(offset + 4 + length)
            guard value.upperBound <= message.count else { return false }
            let attribute = Attribute(start: offset, type: uint16(message, at: offset), value: value,
                                      end: value.upperBound + (4 - length % 4) % 4)
            guard visit(attribute) else { return true }
            offset = attribute.end
        }
        return true
    }

    public static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    public static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public static func uint16(_ bytes: [UInt8], at offset: Int) -> UInt16 { UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]) }

    public static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(uint16(bytes, at: offset)) << 16 | UInt32(uint16(bytes, at: offset + 2))
    }
}
