public import RiftCrypto

/// The few STUN/TURN messages a TURN probe (the hub's check, `riftgate netcheck`) sends and reads (RFC 5389 framing, RFC 5766 methods): requests with
/// attributes in the order given, optionally closed by MESSAGE-INTEGRITY, and responses decoded to their attributes.
public struct TURNMessage: Sendable, Equatable {
    /// One attribute: its type and its value without padding.
    public struct Attribute: Sendable, Equatable {
        public var type: UInt16
        public var value: [UInt8]

        /// An attribute of `type` holding `value`.
        public init(type: UInt16, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    public static let allocate: UInt16 = 0x003
    public static let refresh: UInt16 = 0x004
    public static let successClass: UInt16 = 0x0100
    public static let errorClass: UInt16 = 0x0110

    public static let username: UInt16 = 0x0006
    public static let messageIntegrity: UInt16 = 0x0008
    public static let errorCode: UInt16 = 0x0009
    public static let lifetime: UInt16 = 0x000D
    public static let realm: UInt16 = 0x0014
    public static let nonce: UInt16 = 0x0015
    public static let requestedTransport: UInt16 = 0x0019

    /// The message type: method and class bits (a request is the bare method).
    public var type: UInt16
    /// The 12-byte transaction id.
    public var transactionID: [UInt8]
    /// Attributes in wire order (MESSAGE-INTEGRITY, when decoded, included).
    public var attributes: [Attribute]

    /// A message of `type` with `transactionID` (12 bytes) and `attributes`.
    public init(type: UInt16, transactionID: [UInt8], attributes: [Attribute]) {
        self.type = type
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// The first value of attribute `type`, or nil.
    public func value(of type: UInt16) -> [UInt8]? { attributes.first { $0.type == type }?.value }

    /// Whether this is a success response to `method`.
    public func isSuccess(of method: UInt16) -> Bool { type == method | Self.successClass }

    /// The ERROR-CODE number (class × 100 + number) of an error response, or nil.
    public var errorNumber: Int? {
        guard type & Self.errorClass == Self.errorClass, let value = value(of: Self.errorCode), value.count >= 4 else { return nil }
        return Int(value[2] & 0x07) * 100 + Int(value[3])
    }

    /// The wire form. With `integrityKey`, a MESSAGE-INTEGRITY attribute is appended, computed (RFC 5389 §15.4) over
    /// the message up to it with the header length already counting it. Fails only when OpenSSL cannot compute HMAC.
    public func encoded(integrityKey: [UInt8]? = nil) throws(CryptoError) -> [UInt8] {
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
    public static func decode(_ datagram: [UInt8]) -> TURNMessage? {
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
