import RiftProtocol

/// An X25519 private key: a peer's WireGuard private key and identity, or the hub's long-term key.
///
/// The 32 secret bytes live in guarded memory (`SecretBytes`) that copies of the value share and that is
/// zeroed when the last copy goes away. `description` shows only the public key.
public struct PrivateKey: Sendable, CustomStringConvertible {
    /// The secret scalar, shared by every copy of this value.
    let secret: SecretBytes
    /// The matching public key, as `wg pubkey` prints it.
    public let publicKey: PublicKey

    private init(secret: SecretBytes) throws(CryptoError) {
        guard !secret.isAllZero else {
            throw CryptoError(.invalidKey, "an all-zero private key is WireGuard's \"no key\" and cannot be used")
        }
        guard let bytes = X25519.publicKey(of: secret), let publicKey = try? PublicKey(bytes: bytes) else {
            throw CryptoError(.invalidKey, "crypto_scalarmult_base refused the private key")
        }
        self.secret = secret
        self.publicKey = publicKey
    }

    /// A new random key, like `wg genkey`: 32 bytes from the operating system's CSPRNG, clamped.
    /// Cannot fail short of the process being out of memory.
    public static func generate() -> PrivateKey {
        do {
            return try PrivateKey(secret: X25519.generatePrivateKey())
        } catch {
            // A clamped key has bit 254 set, so it is never zero and crypto_scalarmult_base always accepts it.
            fatalError("a freshly generated private key was refused: \(error)")
        }
    }

    /// Reads a key as `wg genkey` prints it: 32 bytes of canonical padded base64. One trailing line ending
    /// (`\n` or `\r\n`), as a key file has, is ignored. The key is used as given (not clamped), like WireGuard.
    /// Fails with `invalidKey` for anything else (wrong length, bad characters, surrounding spaces, an
    /// all-zero key); the reason never repeats the text.
    public init(base64 text: String) throws(CryptoError) {
        var body = text[...]
        if body.last == "\n" || body.last == "\r\n" { body = body.dropLast() }
        guard let secret = SecretBytes.decoding(body, as: .base64, byteCount: X25519.keyBytes) else {
            throw CryptoError(.invalidKey, "a private key is 32 bytes of padded base64 (44 characters), as `wg genkey` prints it")
        }
        try self.init(secret: secret)
    }

    /// The key as `wg genkey` prints it, without a line ending. Only for writing a key file: the returned
    /// `String` is ordinary memory that is not zeroed.
    public var base64: String { secret.encodedText(.base64) }

    /// Names the key by its public half; never prints the secret.
    public var description: String { "PrivateKey(public: \(publicKey.base64))" }
}
