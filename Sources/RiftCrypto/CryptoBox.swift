internal import CRiftSodium
import RiftProtocol

/// `crypto_box` (X25519 key agreement, XSalsa20-Poly1305) on byte arrays, in the `_easy` layout: the 16-byte
/// authenticator followed by the ciphertext.
enum CryptoBox {
    /// `crypto_box_easy`: seals `message` from `sender` to `recipient`. Fails with `sealFailed` for a nonce
    /// that is not 24 bytes, or when libsodium refuses (the recipient key is a low-order point, so the
    /// shared secret would be all zeros).
    static func seal(
        _ message: [UInt8], nonce: [UInt8], to recipient: PublicKey, from sender: SecretBytes
    ) throws(CryptoError) -> [UInt8] {
        Sodium.ensureInitialized()
        guard nonce.count == SealedBox.nonceBytes else {
            throw CryptoError(.sealFailed, "a nonce is \(SealedBox.nonceBytes) bytes, not \(nonce.count)")
        }
        let sealedCount = message.count + SealedBox.macBytes
        var status: Int32 = -1
        let sealed = [UInt8](unsafeUninitializedCapacity: sealedCount) { output, initialized in
            status = sender.withUnsafeBytes { secret in
                crypto_box_easy(
                    output.baseAddress!, message, UInt64(message.count), nonce, recipient.bytes,
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            initialized = sealedCount
        }
        guard status == 0 else {
            throw CryptoError(.sealFailed, "crypto_box_easy refused the recipient key \(recipient.base64)", status: status)
        }
        return sealed
    }

    /// `crypto_box_open_easy`: opens `sealed` from `sender` with `recipient`'s private key. Fails with
    /// `openFailed` when the nonce is not 24 bytes, the box is shorter than its authenticator, or the box does
    /// not authenticate (wrong keys, wrong nonce, tampered or truncated).
    static func open(
        _ sealed: [UInt8], nonce: [UInt8], from sender: PublicKey, to recipient: SecretBytes
    ) throws(CryptoError) -> [UInt8] {
        Sodium.ensureInitialized()
        guard nonce.count == SealedBox.nonceBytes else {
            throw CryptoError(.openFailed, "a nonce is \(SealedBox.nonceBytes) bytes, not \(nonce.count)")
        }
        guard sealed.count >= SealedBox.macBytes else {
            throw CryptoError(.openFailed, "a box of \(sealed.count) bytes is shorter than its authenticator")
        }
        let messageCount = sealed.count - SealedBox.macBytes
        var status: Int32 = -1
        // At least one byte of capacity, so that an empty message still gets a valid output pointer.
        var message = [UInt8](unsafeUninitializedCapacity: max(messageCount, 1)) { output, initialized in
            status = recipient.withUnsafeBytes { secret in
                crypto_box_open_easy(
                    output.baseAddress!, sealed, UInt64(sealed.count), nonce, sender.bytes,
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            initialized = messageCount
        }
        guard status == 0 else {
            Sodium.zero(&message)
            throw CryptoError(.openFailed, "the box does not authenticate from \(sender.base64)", status: status)
        }
        return message
    }
}
