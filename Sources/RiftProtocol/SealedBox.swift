/// An end-to-end sealed payload: `crypto_box` (X25519, XSalsa20-Poly1305) between two peers' keys.
///
/// The hub routes it but cannot open or forge it. `RiftCrypto` seals and opens; this type only carries it.
public struct SealedBox: Sendable, Hashable {
    /// The 24-byte nonce, random per message.
    public var nonce: [UInt8]
    /// The ciphertext with its 16-byte authenticator in front (`crypto_box_easy` layout).
    public var ciphertext: [UInt8]

    /// Nonce length in bytes (`crypto_box_NONCEBYTES`).
    public static let nonceBytes = 24
    /// Authenticator length in bytes (`crypto_box_MACBYTES`).
    public static let macBytes = 16

    /// Wraps a nonce and ciphertext.
    public init(nonce: [UInt8], ciphertext: [UInt8]) {
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    var json: JSONValue {
        .object(["nonce": .string(Base64.encode(nonce)), "box": .string(Base64.encode(ciphertext))])
    }

    static func read(_ reader: inout ObjectReader, _ key: String) throws(ProtocolError) -> SealedBox {
        try reader.object(key) { nested throws(ProtocolError) in
            let nonce = try nested.bytes("nonce", byteCount: nonceBytes)
            let box = try nested.bytes("box", maxBytes: Limits.maximumSealedBytes)
            guard box.count > macBytes else {
                throw ProtocolError(.invalidValue, "a sealed box is longer than its \(macBytes)-byte authenticator")
            }
            return SealedBox(nonce: nonce, ciphertext: box)
        }
    }
}
