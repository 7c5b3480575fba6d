/// The stable, machine-readable error codes of the protocol.
///
/// The raw value is what travels in the `code` field of an `error` frame. Codes are never renamed or
/// reused; `PROTOCOL.md` lists them with their meaning and whether the hub closes the connection.
public enum ErrorCode: String, Sendable, CaseIterable, Hashable {
    // Frame and message shape
    case malformedJSON = "malformed_json"
    case notAnObject = "not_an_object"
    case unknownType = "unknown_type"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case unknownField = "unknown_field"
    case invalidValue = "invalid_value"
    case frameTooLarge = "frame_too_large"
    case senderNotAllowed = "sender_not_allowed"
    // Session
    case unsupportedVersion = "unsupported_version"
    case unauthorized = "unauthorized"
    case unknownNetwork = "unknown_network"
    case proofFailed = "proof_failed"
    case notAuthenticated = "not_authenticated"
    case alreadyAuthenticated = "already_authenticated"
    case peerRevoked = "peer_revoked"
    case replaced = "replaced"
    case networkFull = "network_full"
    /// The token admits a limited number of keys (single-use or per-device) and has admitted as many others.
    case tokenExhausted = "token_exhausted"
    // Relay
    case peerNotFound = "peer_not_found"
    case rateLimited = "rate_limited"
    /// Version-independent: the network's access policy lets neither peer reach the other (PROTOCOL.md §6.11).
    case policyDenied = "policy_denied"
    // Hub
    case shuttingDown = "shutting_down"
    case internalError = "internal_error"

    /// Whether a client should stop reconnecting after this error: retrying cannot succeed until a person
    /// changes something (a new token, a re-admitted key, a newer client).
    public var isPermanent: Bool {
        switch self {
        case .unauthorized, .unknownNetwork, .peerRevoked, .unsupportedVersion, .proofFailed, .tokenExhausted: true
        default: false
        }
    }

    /// Whether the hub closes the connection after sending this error.
    public var closesConnection: Bool {
        switch self {
        case .unauthorized, .unknownNetwork, .peerRevoked, .unsupportedVersion, .proofFailed, .tokenExhausted,
            .replaced, .networkFull, .shuttingDown, .notAuthenticated, .frameTooLarge:
            true
        default: false
        }
    }
}
