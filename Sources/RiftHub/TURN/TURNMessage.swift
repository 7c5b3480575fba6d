import RiftCrypto

/// The few STUN/TURN messages the hub's TURN check sends and reads (RFC 5389 framing, RFC 5766 methods): requests with
/// attributes in the order given, optionally closed by MESSAGE-INTEGRITY, and responses decoded to their attributes.
struct TURNMessage: Sendable, Equatable {
    /// One attribute: its type and its value without padding.
    struct Attribute: Sendable, Equatable {
        var type: UInt16
        var value: [UInt8]
    }

    static let allocate: UInt16 = 0x003
    static let refresh: UInt16 = 0x004
    static let successClass: UInt16 = 0x0100
    static let errorClass: UInt16 = 0x0110

    static let username: UInt16 = 0x0006
    static let messageIntegrity: UInt16 = 0x0008
    static let errorCode: UInt16 = 0x0009
    static let lifetime: UInt16 = 0x000D
    static let realm: UInt16 = 0x0014
    static let nonce: UInt16 = 0x0015
    static let requestedTransport: UInt16 = 0x0019

    /// The message type: method and class bits (a request is the bare method).
    var type: UInt16
    /// The 12-byte transaction id.
    var transactionID: [UInt8]
    /// Attributes in wire order (MESSAGE-INTEGRITY, when decoded, included).
    var attributes: [Attribute]

    /// The first value of attribute `type`, or nil.
    func value(of type: UInt16) -> [UInt8]? { attributes.first { $0.type == type }?.value }

    /// Whether this is a success response to `method`.
    func isSuccess(of method: UInt16) -> Bool { type == method | Self.successClass }

    /// The ERROR-CODE number (class × 100 + number) of an error response, or nil.
    var errorNumber: Int? {
        guard type & Self.errorClass == Self.errorClass, let value = value(of: Self.errorCode), value.count >= 4 else { return nil }
        return Int(value[2] & 0x07) * 100 + Int(value[3])
    }

    /// The wire form. With `integrityKey`, a MESSAGE-INTEGRITY attribute is appended, computed (RFC 5389 §15.4) over
    /// the message up to it with the header length already counting it. Fails only when OpenSSL cannot compute HMAC.
    func encoded(integrityKey: [UInt8]? = nil) throws(CryptoError) -> [UInt8] {
        var body: [UInt8] = []
        for attribute in attributes { body += STUNFraming.attribute(attribute.type, attribute.value) }
        let integrityLength = integrityKey == nil ? 0 : 24
        var message = STUNFraming.header(type, length: body.count + integrityLength, id16: Self.cookie + transactionID) + body
        if let integrityKey {
            let digest = try STUNMessageIntegrity.authenticate(message, key: integrityKey)
            message += STUNFraming.attribute(Self.messageIntegrity, digest)
        }
        return message
    }

    /// The message in `datagram`, or nil when it is not a well-formed RFC 5389 message (no magic cookie, bad length,
    /// truncated attribute).
    static func decode(_ datagram: [UInt8]) -> TURNMessage? {
        guard datagram.count >= 20, datagram[0] & 0xC0 == 0 else { return nil }
        let length = Int(datagram[2]) << 8 | Int(datagram[3])
        guard length % 4 == 0, 20 + length == datagram.count, Array(datagram[4..<8]) == cookie else { return nil }
        var attributes: [Attribute] = []
        let framed = STUNFraming.readAttributes(datagram) { attribute in
            attributes.append(Attribute(type: attribute.type, value: Array(datagram[attribute.value])))
            return true
        }
        guard framed else { return nil }
        return TURNMessage(type: STUNFraming.uint16(datagram, at: 0), transactionID: Array(datagram[8..<20]),
                           attributes: attributes)
    }

    private static let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
}
