/// The outcome of one TURN allocation probe; its raw value is the `result` label of `riftgate_hub_turn_checks_total`
/// and the `result` of a TURN server in `riftgate netcheck --json`.
public enum TURNCheckResult: String, Sendable, CaseIterable, Codable {
    /// An allocation succeeded with the credentials (and was released again).
    case ok
    /// The server refused the credentials (401 or 438 after authenticating): for the hub, `turn_secret_file` differs
    /// from coturn's `static-auth-secret`; for an agent, its credentials are wrong or expired.
    case rejected
    /// No answer within the timeout, the port refused (ICMP unreachable, TCP reset), or the name did not resolve.
    case unreachable
    /// Any other answer: another error code, a malformed response, a challenge without REALM or NONCE.
    case error
}
