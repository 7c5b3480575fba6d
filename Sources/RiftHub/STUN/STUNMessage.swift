/// The client address a STUN response reports: 4 (IPv4) or 16 (IPv6) address bytes and a port.
public struct STUNEndpoint: Sendable, Hashable {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var address: [UInt8]
    /// The UDP port.
    public var port: UInt16

    /// Creates an endpoint; `address` must be 4 or 16 bytes.
    public init(address: [UInt8], port: UInt16) {
        precondition(address.count == 4 || address.count == 16, "an IP address is 4 or 16 bytes")
        self.address = address
        self.port = port
    }
}

/// The subset of STUN (RFC 5389) the hub's responder speaks: Binding requests in, Binding success
/// responses with XOR-MAPPED-ADDRESS and FINGERPRINT out.
public enum STUNMessage {
    /// The fixed magic cookie of RFC 5389 messages.
    public static let magicCookie: UInt32 = 0x2112_A442
    static let bindingRequest: UInt16 = 0x0001
    static let bindingSuccess: UInt16 = 0x0101
    static let xorMappedAddress: UInt16 = 0x0020
    static let fingerprint: UInt16 = 0x8028
    static let fingerprintXOR: UInt32 = 0x5354_554E

    /// The 12-byte transaction id of `datagram` when it is a well-formed RFC 5389 Binding request; nil for
    /// anything else (other methods, responses, RFC 3489 messages without the cookie, bad lengths,
    /// truncated attributes, a wrong FINGERPRINT), which the responder ignores.
    public static func bindingRequestTransactionID(_ datagram: [UInt8]) -> [UInt8]? {
        guard datagram.count >= 20, datagram.count <= 1280 else { return nil }
        let type = UInt16(datagram[0]) << 8 | UInt16(datagram[1])
        let length = Int(datagram[2]) << 8 | Int(datagram[3])
        guard type == bindingRequest, length % 4 == 0, 20 + length == datagram.count,
              readUInt32(datagram, at: 4) == magicCookie else { return nil }
        var offset = 20
        while offset < datagram.count {
            guard offset + 4 <= datagram.count else { return nil }
            let attribute = UInt16(datagram[offset]) << 8 | UInt16(datagram[offset + 1])
            let valueLength = Int(datagram[offset + 2]) << 8 | Int(datagram[offset + 3])
            let next = offset + 4 + (valueLength + 3) / 4 * 4
            guard next <= datagram.count else { return nil }
            if attribute == fingerprint {
                // FINGERPRINT must be last and must match.
                guard valueLength == 4, next == datagram.count,
                      readUInt32(datagram, at: offset + 4) == CRC32.checksum(datagram[..<offset]) ^ fingerprintXOR else { return nil }
            }
            offset = next
        }
        return Array(datagram[8..<20])
    }

    /// A Binding success response telling the client `endpoint`, its address as the hub saw it.
    public static func bindingSuccessResponse(transactionID: [UInt8], endpoint: STUNEndpoint) -> [UInt8] {
        precondition(transactionID.count == 12, "a STUN transaction id is 12 bytes")
        let cookie = bytes(magicCookie)
        let xorPad = cookie + transactionID
        let family: UInt8 = endpoint.address.count == 4 ? 0x01 : 0x02
        let port = endpoint.port ^ UInt16(magicCookie >> 16)
        let address = endpoint.address.enumerated().map { $0.element ^ xorPad[$0.offset] }
        let mapped = [0, family, UInt8(port >> 8), UInt8(port & 0xFF)] + address
        let attributes = attribute(xorMappedAddress, mapped)
        var message = header(bindingSuccess, length: attributes.count + 8, transactionID: transactionID) + attributes
        let crc = CRC32.checksum(message) ^ fingerprintXOR
        message += attribute(fingerprint, bytes(crc))
        return message
    }

    /// A Binding request, for tests and clients: optionally with a FINGERPRINT.
    public static func bindingRequest(transactionID: [UInt8], withFingerprint: Bool = false) -> [UInt8] {
        var message = header(bindingRequest, length: withFingerprint ? 8 : 0, transactionID: transactionID)
        if withFingerprint { message += attribute(fingerprint, bytes(CRC32.checksum(message) ^ fingerprintXOR)) }
        return message
    }

    /// The XOR-MAPPED-ADDRESS of a Binding success response, for tests and clients; nil when absent.
    public static func mappedEndpoint(inResponse message: [UInt8]) -> STUNEndpoint? {
        guard message.count >= 20, UInt16(message[0]) << 8 | UInt16(message[1]) == bindingSuccess else { return nil }
        let xorPad = Array(message[4..<20])
        var offset = 20
        while offset + 4 <= message.count {
            let attribute = UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
            let length = Int(message[offset + 2]) << 8 | Int(message[offset + 3])
            guard offset + 4 + length <= message.count else { return nil }
            if attribute == xorMappedAddress, length == 8 || length == 20 {
                let value = Array(message[(offset + 4)..<(offset + 4 + length)])
                let port = (UInt16(value[2]) << 8 | UInt16(value[3])) ^ UInt16(magicCookie >> 16)
                let address = value[4...].enumerated().map { $0.element ^ xorPad[$0.offset] }
                return STUNEndpoint(address: address, port: port)
            }
            offset += 4 + (length + 3) / 4 * 4
        }
        return nil
    }

    private static func header(_ type: UInt16, length: Int, transactionID: [UInt8]) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF)] + bytes(magicCookie) + transactionID
    }

    private static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        let padding = [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        return [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value + padding
    }

    private static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
