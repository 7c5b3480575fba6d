/// Why a path is relayed, in words, from what the agent saw of the generation that selected it: the kinds of
/// candidates each side had, whether the generation was relay-only and who decided it, and how many attempts failed
/// before. Pure: `riftgate ping`, `status --verbose` and `status --json` (`relay_reason`) show its text.
struct RelayExplanation: Sendable, Equatable {
    /// Our candidates, as gathered.
    var local: CandidateTally
    /// The peer's, as signaled.
    var remote: CandidateTally
    /// Whether the generation gathered relayed candidates only.
    var relayOnly: Bool
    /// Whether this side is controlling (it decides relay-only; the controlled side follows the offer).
    var controlling: Bool
    /// Consecutive failed attempts before this generation (controlling side's count).
    var failedAttempts: Int
    /// Whether the hub gave STUN or TURN servers from which a server-reflexive candidate could come.
    var hasReflexiveSource: Bool

    /// The reasons, most telling first, joined with `; `.
    var text: String {
        var reasons: [String] = []
        if relayOnly {
            if controlling {
                reasons.append("relay forced after \(failedAttempts) failed attempt\(failedAttempts == 1 ? "" : "s") to connect")
            } else {
                reasons.append("the peer asked for relay candidates only (it forces the relay after repeated failures)")
            }
        } else {
            if remote.direct == 0, remote.relayed > 0 {
                reasons.append("peer offered relay candidates only")
            } else if remote.serverReflexive == 0, remote.complete {
                reasons.append("the peer has no server-reflexive candidate (UDP to STUN blocked on its side?)")
            }
            if local.serverReflexive == 0, local.complete, hasReflexiveSource {
                reasons.append("no server-reflexive candidate here: UDP to STUN blocked or filtered")
            }
            let pairs = local.direct * remote.direct
            if pairs > 0 {
                var reason = "direct checks failed: \(pairs) pair\(pairs == 1 ? "" : "s") of non-relay candidates tried"
                if local.serverReflexive > 0, remote.serverReflexive > 0 { reason += " (a NAT maps per destination?)" }
                reasons.append(reason)
            }
        }
        reasons.append("candidates local \(local.text), remote \(remote.text)")
        return reasons.joined(separator: "; ")
    }
}
