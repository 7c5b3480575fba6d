/// Why a RiftCrypto operation failed: a stable `code` for programs and a `reason` for people.
///
/// A reason never contains a secret (no key, token or plaintext), so errors can be logged as they are.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in a form a program can act on.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A private or public key is not 32 bytes of canonical base64, or is unusable (all zero, low order).
        case invalidKey = "invalid_key"
        /// A bearer token or token hash does not have the required format.
        case invalidToken = "invalid_token"
        /// Sealing was refused: bad nonce, payload too large, or the C library failed.
        case sealFailed = "seal_failed"
        /// A box did not authenticate: wrong keys, tampered, truncated or the wrong nonce.
        case openFailed = "open_failed"
        /// A box opened, but what it says (kind, sender, recipient) contradicts its envelope.
        case mismatch = "mismatch"
        /// A box opened, but its plaintext is not a valid signaling payload.
        case malformedPayload = "malformed_payload"
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation.
    public var reason: String
    /// The failing C function's return value (libsodium) or error code (OpenSSL), when a C call failed.
    public var status: Int32?

    /// Creates an error.
    public init(_ code: Code, _ reason: String, status: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.status = status
    }

    public var description: String {
        guard let status else { return "\(code.rawValue): \(reason)" }
        return "\(code.rawValue): \(reason) (C status \(status))"
    }
}
