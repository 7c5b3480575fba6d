internal import CRiftOpenSSL

/// HMAC-SHA1 from OpenSSL's libcrypto: the one primitive RiftCrypto needs that libsodium lacks (TURN REST
/// credentials are defined with it). SHA-1 is acceptable here: HMAC's security does not rest on SHA-1's
/// collision resistance.
enum HMACSHA1 {
    /// The digest length in bytes.
    static let digestBytes = 20

    /// `HMAC(EVP_sha1(), key, message)`, one-shot. Fails with `sealFailed` carrying OpenSSL's packed error code
    /// and text when libcrypto cannot compute it (only when out of memory or when its configuration disables
    /// SHA-1).
    static func authenticate(_ message: [UInt8], key: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard key.count <= Int(Int32.max) else {
            throw CryptoError(.sealFailed, "an HMAC key of \(key.count) bytes is too long for OpenSSL")
        }
        // OpenSSL wants valid pointers even for empty input: an empty array is replaced by one byte, passed
        // with length 0 and never read.
        let keyStorage = key.isEmpty ? [0] : key
        let messageStorage = message.isEmpty ? [0] : message
        var length: UInt32 = 0
        var succeeded = false
        let digest = [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { output, initialized in
            let result = HMAC(EVP_sha1(), keyStorage, Int32(key.count), messageStorage, message.count,
                              output.baseAddress!, &length)
            succeeded = result != nil && Int(length) == digestBytes
            initialized = succeeded ? digestBytes : 0
        }
        guard succeeded else { throw openSSLError("HMAC-SHA1") }
        return digest
    }

    /// The oldest error on OpenSSL's per-thread error queue as a `CryptoError`; clears the queue so that a
    /// later failure is not blamed on this one.
    private static func openSSLError(_ operation: String) -> CryptoError {
        let code = ERR_get_error()
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return CryptoError(.sealFailed, "OpenSSL \(operation) failed: \(reason)", status: Int32(truncatingIfNeeded: code))
    }
}
