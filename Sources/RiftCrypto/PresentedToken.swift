internal import CRiftSodium

/// A bearer token a client presented (the hub's `Authorization` header), read only for its hash.
///
/// The hub never needs the token's 32 secret bytes, only the hash it compares with the stored ones. So unlike
/// `BearerToken`, which keeps the bytes in `sodium_malloc` memory (five system calls to allocate and free: guard
/// pages, `mlock`), this checks the text's format, decodes it into a stack buffer only to prove it canonical, wipes that
/// buffer with `sodium_memzero`, and hashes the text itself: a canonical token's text is exactly what `BearerToken`
/// hashes, so both give the same `TokenHash`. The text came in an ordinary `String` (the HTTP header) anyway.
public enum PresentedToken {
    /// The hash of the token `text`, as `BearerToken(text:).hash` would give it. Fails with `invalidToken` for the same
    /// texts `BearerToken(text:)` refuses; the reason never repeats the text.
    public static func hash(of text: String) throws(CryptoError) -> TokenHash {
        var text = text
        let digest = text.withUTF8 { utf8 -> [UInt8]? in
            guard utf8.count == BearerToken.textLength, utf8.starts(with: BearerToken.prefix.utf8) else { return nil }
            let encoded = UnsafeBufferPointer(rebasing: utf8[BearerToken.prefix.utf8.count...])
            guard isCanonicalBase64URL(encoded, byteCount: BearerToken.randomByteCount) else { return nil }
            return Sodium.genericHash([UnsafeRawBufferPointer(utf8)])
        }
        guard let digest else {
            throw CryptoError(.invalidToken, "a token is \(BearerToken.prefix) followed by 43 base64url characters")
        }
        return TokenHash(digest: digest)
    }

    /// Whether `encoded` is canonical unpadded base64url of exactly `byteCount` bytes (`sodium_base642bin`, as
    /// `SecretBytes.decoding` checks it); the decoded bytes are zeroed before returning.
    private static func isCanonicalBase64URL(_ encoded: UnsafeBufferPointer<UInt8>, byteCount: Int) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { decoded in
            defer { sodium_memzero(decoded.baseAddress!, byteCount) }
            var decodedCount = 0
            let status = encoded.withMemoryRebound(to: CChar.self) { characters in
                sodium_base642bin(decoded.baseAddress!, byteCount, characters.baseAddress, characters.count, nil,
                                  &decodedCount, nil, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
            }
            return status == 0 && decodedCount == byteCount
        }
    }
}
