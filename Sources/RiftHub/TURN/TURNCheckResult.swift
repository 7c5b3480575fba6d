/// The outcome of one TURN allocation probe, the `result` label of `riftgate_hub_turn_checks_total`.
enum TURNCheckResult: String, Sendable, CaseIterable {
    /// An allocation succeeded with the hub's credentials (and was released again).
    case ok
    /// The server refused the hub's credentials (401 or 438 after authenticating): `turn_secret_file` differs from
    /// coturn's `static-auth-secret`.
    case rejected
    /// No answer within the timeout, the port refused (ICMP unreachable), or the name did not resolve.
    case unreachable
    /// Any other answer: another error code, a malformed response, a challenge without REALM or NONCE.
    case error
}
