/// An end-to-end sealed payload: `crypto_box` (X25519, XSalsa20-Poly1305) between two peers' keys.
///
/// The hub routes it but cannot open or forge it. `RiftCrypto` seals and opens; this type only carries it.
/// It keeps the canonical base64 text of its nonce and box, as they travel: the hub checks that text when it
/// decodes a message and passes it on unchanged, without decoding the bytes and encoding them again (that round trip
/// was about a quarter of the hub's work per relayed message). Canonical base64 has one text per value, so equality of
/// the texts is equality of the bytes.
public struct SealedBox: Sendable, Hashable {
    /// The nonce as canonical base64.
    public private(set) var nonceText: String
    /// The ciphertext as canonical base64.
    public private(set) var boxText: String

    /// Nonce length in bytes (`crypto_box_NONCEBYTES`).
    public static let nonceBytes = 24
    /// Authenticator length in bytes (`crypto_box_MACBYTES`).
    public static let macBytes = 16

    /// Wraps a nonce and ciphertext.
    public init(nonce: [UInt8], ciphertext: [UInt8]) {
        nonceText = Base64.encode(nonce)
        boxText = Base64.encode(ciphertext)
    }

    /// Wraps texts already checked as canonical base64 of the right lengths (by `read`, or by `SignalFrameScanner`).
    init(checkedNonceText nonceText: String, boxText: String) {
        self.nonceText = nonceText
        self.boxText = boxText
    }

    /// The 24-byte nonce, random per message.
    public var nonce: [UInt8] {
        get { Base64.decode(nonceText)! }
        set { nonceText = Base64.encode(newValue) }
    }

    /// The ciphertext with its 16-byte authenticator in front (`crypto_box_easy` layout).
    public var ciphertext: [UInt8] {
        get { Base64.decode(boxText)! }
        set { boxText = Base64.encode(newValue) }
    }

    var json: JSONValue {
        .object(["nonce": .string(nonceText), "box": .string(boxText)])
    }

    /// Reads the `{nonce, box}` object at `key`: canonical base64, a 24-byte nonce, a box longer than its authenticator
    /// and within `Limits.maximumSealedBytes`; fails with the protocol's error codes.
    public static func read(_ reader: inout ObjectReader, _ key: String) throws(ProtocolError) -> SealedBox {
        try reader.object(key) { nested throws(ProtocolError) in
            let nonce = try nested.base64Text("nonce", byteCount: nonceBytes)
            let box = try nested.base64Text("box", maxBytes: Limits.maximumSealedBytes)
            guard box.byteCount > macBytes else {
                throw ProtocolError(.invalidValue, "a sealed box is longer than its \(macBytes)-byte authenticator")
            }
            return SealedBox(checkedNonceText: nonce.text, boxText: box.text)
        }
    }
}
