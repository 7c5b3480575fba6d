import RiftTURN
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

/// A Binding request the hub answers, in one of the two dialects a STUN server meets.
public struct STUNBindingRequest: Sendable, Hashable {
    /// What identifies the transaction, echoed in the response: the 12 bytes after the magic cookie for RFC 5389,
    /// or the whole 16 bytes after the length for an RFC 3489 ("classic") request, which has no magic cookie.
    public var transactionID: [UInt8]

    /// Whether the client speaks RFC 3489: it understands MAPPED-ADDRESS only, not XOR-MAPPED-ADDRESS.
    public var isClassic: Bool { transactionID.count == 16 }

    /// Creates a request; `transactionID` must be 12 (RFC 5389) or 16 (RFC 3489) bytes.
    public init(transactionID: [UInt8]) {
        precondition(transactionID.count == 12 || transactionID.count == 16, "a STUN transaction id is 12 or 16 bytes")
        self.transactionID = transactionID
    }
}

/// The subset of STUN the hub's responder speaks: Binding requests in, Binding success responses out.
///
/// RFC 5389 requests (with the magic cookie) get XOR-MAPPED-ADDRESS and FINGERPRINT. Classic RFC 3489 requests get
/// MAPPED-ADDRESS, as RFC 5389 §12.2 asks of a server: libnice sends its server-reflexive discovery requests in that
/// form (it initialises the discovery `StunAgent` with `STUN_COMPATIBILITY_RFC3489`), so a hub that ignored them would
/// give agents no server-reflexive candidate unless a TURN server happened to provide one.
public enum STUNMessage {
    /// The fixed magic cookie of RFC 5389 messages.
    public static let magicCookie: UInt32 = 0x2112_A442
    static let bindingRequestType: UInt16 = 0x0001
    static let bindingSuccess: UInt16 = 0x0101
    static let mappedAddress: UInt16 = 0x0001
    static let xorMappedAddress: UInt16 = 0x0020
    static let fingerprint: UInt16 = 0x8028
    static let fingerprintXOR: UInt32 = 0x5354_554E

    /// The Binding request in `datagram`, RFC 5389 or RFC 3489; nil for anything else (other methods, responses, bad
    /// lengths, truncated attributes, a wrong FINGERPRINT), which the responder ignores.
    public static func bindingRequest(in datagram: [UInt8]) -> STUNBindingRequest? {
        guard datagram.count >= 20, datagram.count <= 1280 else { return nil }
        let type = UInt16(datagram[0]) << 8 | UInt16(datagram[1])
        let length = Int(datagram[2]) << 8 | Int(datagram[3])
        guard type == bindingRequestType, length % 4 == 0, 20 + length == datagram.count else { return nil }
        let classic = STUNFraming.uint32(datagram, at: 4) != magicCookie
        var fingerprintOK = true
        let framed = STUNFraming.readAttributes(datagram) { attribute in
            guard attribute.type == fingerprint, !classic else { return true }
            // FINGERPRINT must be last and must match.
            fingerprintOK = attribute.value.count == 4 && attribute.end == datagram.count
                && STUNFraming.uint32(datagram, at: attribute.value.lowerBound)
                    == CRC32.checksum(datagram[..<attribute.start]) ^ fingerprintXOR
            return fingerprintOK
        }
        guard framed, fingerprintOK else { return nil }
        return STUNBindingRequest(transactionID: Array(datagram[(classic ? 4 : 8)..<20]))
    }

    /// A Binding success response telling the client `endpoint`, its address as the hub saw it: XOR-MAPPED-ADDRESS and
    /// FINGERPRINT for an RFC 5389 request; MAPPED-ADDRESS alone, with the request's 16-byte id echoed, for a classic one.
    public static func bindingSuccessResponse(to request: STUNBindingRequest, endpoint: STUNEndpoint) -> [UInt8] {
        let family: UInt8 = endpoint.address.count == 4 ? 0x01 : 0x02
        if request.isClassic {
            let mapped = [0, family, UInt8(endpoint.port >> 8), UInt8(endpoint.port & 0xFF)] + endpoint.address
            let attributes = STUNFraming.attribute(mappedAddress, mapped)
            return STUNFraming.header(bindingSuccess, length: attributes.count, id16: request.transactionID) + attributes
        }
        let cookie = STUNFraming.bytes(magicCookie)
        let xorPad = cookie + request.transactionID
        let port = endpoint.port ^ UInt16(magicCookie >> 16)
        let address = endpoint.address.enumerated().map { $0.element ^ xorPad[$0.offset] }
        let mapped = [0, family, UInt8(port >> 8), UInt8(port & 0xFF)] + address
        let attributes = STUNFraming.attribute(xorMappedAddress, mapped)
        var message = STUNFraming.header(bindingSuccess, length: attributes.count + 8, id16: xorPad) + attributes
        let crc = CRC32.checksum(message) ^ fingerprintXOR
        message += STUNFraming.attribute(fingerprint, STUNFraming.bytes(crc))
        return message
    }

    /// A Binding request, for tests and clients: optionally with a FINGERPRINT.
    public static func bindingRequest(transactionID: [UInt8], withFingerprint: Bool = false) -> [UInt8] {
        var message = STUNFraming.header(bindingRequestType, length: withFingerprint ? 8 : 0,
                                         id16: STUNFraming.bytes(magicCookie) + transactionID)
        if withFingerprint {
            message += STUNFraming.attribute(fingerprint, STUNFraming.bytes(CRC32.checksum(message) ^ fingerprintXOR))
        }
        return message
    }

    /// The XOR-MAPPED-ADDRESS (or, in a classic response, the MAPPED-ADDRESS) of a Binding success response, for tests
    /// and clients; nil when absent.
    public static func mappedEndpoint(inResponse message: [UInt8]) -> STUNEndpoint? {
        guard message.count >= 20, UInt16(message[0]) << 8 | UInt16(message[1]) == bindingSuccess else { return nil }
        let xorPad = Array(message[4..<20])
        var endpoint: STUNEndpoint?
        STUNFraming.readAttributes(message, strict: false) { attribute in
            guard attribute.type == xorMappedAddress || attribute.type == mappedAddress,
                  attribute.value.count == 8 || attribute.value.count == 20 else { return true }
            let value = Array(message[attribute.value])
            let port = STUNFraming.uint16(value, at: 2)
            if attribute.type == mappedAddress {
                endpoint = STUNEndpoint(address: Array(value[4...]), port: port)
            } else {
                let address = value[4...].enumerated().map { $0.element ^ xorPad[$0.offset] }
                endpoint = STUNEndpoint(address: address, port: port ^ UInt16(magicCookie >> 16))
            }
            return false
        }
        return endpoint
    }
}
