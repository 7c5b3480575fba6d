internal import CRiftSodium

/// The two base64 alphabets secrets are written in.
enum SecretEncoding {
    /// RFC 4648 §4 with padding, as `wg genkey` prints private keys.
    case base64
    /// RFC 4648 §5 without padding, as bearer tokens are written.
    case base64URLUnpadded

    /// libsodium's variant constant.
    var sodiumVariant: Int32 {
        switch self {
        case .base64: sodium_base64_VARIANT_ORIGINAL
        case .base64URLUnpadded: sodium_base64_VARIANT_URLSAFE_NO_PADDING
        }
    }
}

extension SecretBytes {
    /// Decodes `text` straight into secret memory with `sodium_base642bin`, so the secret never passes through
    /// an ordinary buffer. Returns nil unless `text` is canonical `encoding` (no stray characters, no missing
    /// or extra padding, zero trailing bits) of exactly `byteCount` bytes.
    static func decoding(_ text: Substring, as encoding: SecretEncoding, byteCount: Int) -> SecretBytes? {
        struct NotCanonical: Error {}
        var text = text
        return text.withUTF8 { utf8 -> SecretBytes? in
            try? SecretBytes(count: byteCount) { (buffer) throws(NotCanonical) in
                var decodedCount = 0
                let status = utf8.withMemoryRebound(to: CChar.self) { characters in
                    sodium_base642bin(
                        buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), byteCount,
                        characters.baseAddress, characters.count, nil, &decodedCount, nil, encoding.sodiumVariant)
                }
                guard status == 0, decodedCount == byteCount else { throw NotCanonical() }
            }
        }
    }

    /// Encodes the secret with `sodium_bin2base64` into a temporary secret buffer and lends the text's bytes
    /// (ASCII, no terminator) to `body`; the buffer is zeroed when `body` returns.
    func withEncodedText<Result>(_ encoding: SecretEncoding, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        // The length includes the C terminator.
        let capacity = sodium_base64_encoded_len(count, encoding.sodiumVariant)
        let text = SecretBytes(count: capacity) { buffer in
            withUnsafeBytes { secret in
                _ = sodium_bin2base64(
                    buffer.baseAddress!.assumingMemoryBound(to: CChar.self), capacity,
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self), secret.count, encoding.sodiumVariant)
            }
        }
        return text.withUnsafeBytes { buffer in body(UnsafeRawBufferPointer(rebasing: buffer.prefix(capacity - 1))) }
    }

    /// The secret as text. The returned `String` is ordinary memory: only for writing a key file or showing a
    /// token once.
    func encodedText(_ encoding: SecretEncoding) -> String {
        withEncodedText(encoding) { String(decoding: $0, as: UTF8.self) }
    }
}
