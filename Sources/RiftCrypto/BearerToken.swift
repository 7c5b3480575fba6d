/// A network bearer token: `rgt_` followed by 43 characters of base64url (no padding) encoding 32 random bytes.
///
/// It is shown once, when created; the hub stores only its `hash`. The secret bytes live in guarded memory
/// (`SecretBytes`); `description` redacts them and `revealedText` is the only way to get the text.
public struct BearerToken: Sendable, CustomStringConvertible {
    /// The prefix that makes tokens recognisable (to people and to secret scanners).
    public static let prefix = "rgt_"
    /// The number of random bytes a token encodes.
    static let randomByteCount = 32
    /// The length of a token's text: the prefix and 43 base64url characters.
    public static let textLength = 47

    /// The 32 random bytes the text encodes.
    private let secret: SecretBytes
    /// BLAKE2b-256 of the full token text, the form that is stored.
    public let hash: TokenHash

    private init(secret: SecretBytes) {
        self.secret = secret
        // Hashed in two parts so that the token text is never assembled outside guarded memory.
        let digest = secret.withEncodedText(.base64URLUnpadded) { encoded in
            Array(Self.prefix.utf8).withUnsafeBytes { prefix in Sodium.genericHash([prefix, encoded]) }
        }
        hash = TokenHash(digest: digest)
    }

    /// A new token from 32 bytes of the operating system's CSPRNG. Cannot fail short of running out of memory.
    public static func generate() -> BearerToken {
        BearerToken(secret: SecretBytes(randomCount: randomByteCount))
    }

    /// Reads a token's text. Fails with `invalidToken` unless it is exactly `rgt_` followed by 43 characters
    /// of canonical base64url without padding; no whitespace is trimmed. The reason never repeats the text.
    public init(text: String) throws(CryptoError) {
        let format = "a token is \(Self.prefix) followed by 43 base64url characters"
        guard text.utf8.count == Self.textLength, text.utf8.starts(with: Self.prefix.utf8) else {
            throw CryptoError(.invalidToken, format)
        }
        let encoded = Substring(text.utf8.dropFirst(Self.prefix.utf8.count))
        guard let secret = SecretBytes.decoding(encoded, as: .base64URLUnpadded, byteCount: Self.randomByteCount) else {
            throw CryptoError(.invalidToken, format)
        }
        self.init(secret: secret)
    }

    /// The token's text, to show once at creation or to send to the hub. The returned `String` is ordinary
    /// memory that is not zeroed; do not log it.
    public var revealedText: String { Self.prefix + secret.encodedText(.base64URLUnpadded) }

    /// Redacted: names the token by the first 8 digits of its hash, which is not secret.
    public var description: String { "BearerToken(\(Self.prefix)…, hash \(hash.hex.prefix(8))…)" }
}
