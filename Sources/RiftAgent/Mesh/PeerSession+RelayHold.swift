import RiftProtocol

/// The controlled side holds back its relayed candidates in a normal generation (issue 12 item 2).
///
/// libnice nominates aggressively: the controlling side marks the first pair that succeeds as nominated, and once a
/// nominated pair is selected it drops every check still frozen or waiting (conncheck.c, `priv_prune_pending_checks`),
/// higher-priority ones included. Between two symmetric NATs a relay-to-relay pair often succeeds first, and when the
/// relay-to-reflexive pair's checks had not started by then, both sides stay on relay-to-relay: both forward through
/// userspace. A relay on one end only lets the other side hand the pair over to WireGuard (one hop instead of two).
///
/// So in a normal generation the controlled side signals its relayed candidates only `relayHoldMilliseconds` after
/// the generation began, and not at all if ICE selected a pair by then. Until then the peer knows no relayed candidate
/// of ours: it pairs none with its own relay, and its TURN server has no permission for our relay's address, so a
/// relay-to-relay check cannot get through either way, while the peer's relay still pairs with our host and reflexive
/// candidates. Where only our relay works (our network lets UDP out to the TURN server's port only), the pair is found
/// after the hold. Relay-only generations hold nothing.
extension PeerSession {
    /// How long after a normal generation began the controlled side signals its relayed candidates (a pair relayed on
    /// one end is selected ~0.6 s after the generation starts on the hard-NAT lab).
    static let relayHoldMilliseconds: Int64 = 1_000

    /// Whether our relayed candidates of the current generation are held back now.
    var holdsRelayCandidates: Bool { current?.relayHoldEndsAt != nil }

    /// Whether an SDP `candidate:` line is a relayed candidate.
    static func isRelayed(_ line: String) -> Bool { CandidateLine(line)?.isRelayed ?? false }

    /// Every tick: once the hold is over, signal the held relayed candidates (unless a pair was selected meanwhile)
    /// and the end of candidates that waited behind them.
    mutating func endRelayHold(now: Int64) -> [MeshAction] {
        guard var generation = current, let endsAt = generation.relayHoldEndsAt, now >= endsAt, let session else { return [] }
        generation.relayHoldEndsAt = nil
        var actions: [MeshAction] = []
        if generation.selectedPair == nil {
            actions = generation.heldRelayCandidates.map { .sendSignal(payload(.candidate, session: session, body: .candidate($0))) }
        }
        if generation.heldEndOfCandidates {
            actions.append(.sendSignal(payload(.endOfCandidates, session: session, body: .endOfCandidates)))
        }
        generation.heldRelayCandidates = []
        generation.heldEndOfCandidates = false
        current = generation
        return actions
    }
}
