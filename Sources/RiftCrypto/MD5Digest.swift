internal import CRiftOpenSSL

/// MD5 from OpenSSL's libcrypto, for the one place a protocol demands it: the STUN long-term credential key
/// (RFC 5389 §15.4). Never used for anything that needs collision resistance.
enum MD5Digest {
    /// The digest length in bytes.
    static let digestBytes = 16

    /// `EVP_Digest(message, EVP_md5())`. Fails with `sealFailed` carrying OpenSSL's packed error code when libcrypto
    /// cannot compute it (out of memory, or a FIPS configuration that disables MD5).
    static func digest(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let storage = message.isEmpty ? [0] : message
        var length: UInt32 = 0
        var succeeded = false
        let digest = [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { output, initialized in
            succeeded = EVP_Digest(storage, message.count, output.baseAddress!, &length, EVP_md5(), nil) == 1
                && Int(length) == digestBytes
            initialized = succeeded ? digestBytes : 0
        }
        guard succeeded else {
            let code = ERR_get_error()
            ERR_clear_error()
            throw CryptoError(.sealFailed, "OpenSSL MD5 failed", status: Int32(truncatingIfNeeded: code))
        }
        return digest
    }
}
