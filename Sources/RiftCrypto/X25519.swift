internal import CRiftSodium

/// X25519 key operations, exactly as WireGuard's `wg genkey` and `wg pubkey` perform them.
enum X25519 {
    /// The length of private and public keys.
    static let keyBytes = 32

    /// 32 bytes from the CSPRNG, clamped as `wg genkey` clamps them (RFC 7748 §5): the low three bits cleared,
    /// the top bit cleared and the second-highest bit set.
    static func generatePrivateKey() -> SecretBytes {
        SecretBytes(count: keyBytes) { buffer in
            randombytes_buf(buffer.baseAddress!, keyBytes)
            buffer[0] &= 248
            buffer[31] = (buffer[31] & 127) | 64
        }
    }

    /// `crypto_scalarmult_base`: the public key of `privateKey`. libsodium clamps the scalar first, as
    /// `wg pubkey` does, so unclamped keys give the same result as in WireGuard. Nil when libsodium refuses.
    static func publicKey(of privateKey: SecretBytes) -> [UInt8]? {
        precondition(privateKey.count == keyBytes)
        var status: Int32 = -1
        let publicKey = [UInt8](unsafeUninitializedCapacity: keyBytes) { output, initialized in
            status = privateKey.withUnsafeBytes { secret in
                crypto_scalarmult_base(output.baseAddress!, secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            initialized = keyBytes
        }
        return status == 0 ? publicKey : nil
    }
}
