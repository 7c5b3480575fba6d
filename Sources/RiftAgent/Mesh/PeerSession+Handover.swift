import RiftProtocol

extension PeerSession {
    /// How long a hand-over may go without evidence that WireGuard's traffic passes (a handshake completed after it,
    /// or received bytes) before the peer falls back to forwarding, in milliseconds, when WireGuard had no session
    /// with the peer before: the first handshake normally completes in a round trip, and WireGuard retries a lost one
    /// after 5 s.
    static let handoverHandshakeDeadline: Int64 = 8_000
    /// The same when WireGuard already had a session (an upgrade from another path): no handshake is due then, so
    /// the evidence is received bytes, which the peer's persistent keepalive (25 s) guarantees.
    static let handoverTrafficDeadline: Int64 = 32_000

    /// The hand-over for the selected pair, unless this peer's hand-over failed before in this run.
    func handover(local: CandidateEndpoint, remote: CandidateEndpoint, localIsHost: Bool, remoteIsHost: Bool) -> PortHandover? {
        guard !handoverFailed, current?.handoverBypassed != true else { return nil }
        return PortHandover(local: local, remote: remote, localIsHost: localIsHost, remoteIsHost: remoteIsHost)
    }

    /// Periodic check of a hand-over in trial: confirmed by a handshake younger than the hand-over (it needs both
    /// directions), or — only when WireGuard already had a session, so no handshake is due — by received bytes;
    /// reverted to forwarding when the evidence did not come in time. Received bytes alone do not confirm a fresh
    /// hand-over: the peer's handshake initiations arrive even when ours are dropped. Returns the reconfiguration, if any.
    mutating func checkHandover(now: Int64, handshakeAge age: Int64?, received: UInt64?) -> [MeshAction] {
        guard case .handedOver(let handover)? = path, var trial = handoverTrial, let generation = current,
              let since = generation.pathSince else { return [] }
        if trial.receivedAtStart == nil { trial.receivedAtStart = received ?? 0 }
        let handshakeSince = age.map { $0 * 1_000 <= now - since } ?? false
        let receivedSince = trial.hadSession && (received.map { $0 > trial.receivedAtStart ?? $0 } ?? false)
        if handshakeSince || receivedSince {
            handoverTrial = nil
            return []
        }
        handoverTrial = trial
        let deadline = (trial.hadSession ? Self.handoverTrafficDeadline : Self.handoverHandshakeDeadline) + pathSlowness
        guard now - since > deadline else { return [] }
        handoverTrial = nil
        handoverFailed = true
        path = .forwarded
        current?.pathSince = now
        pathReason = "hand-over \(handover) carried no WireGuard traffic in \(deadline / 1_000) s (host firewall, or nft "
            + "cannot rewrite ports here): forwarded over the ICE component for the rest of this run"
        return configureWireGuard(path: .forwarded, instance: generation.instance)
    }
}

/// A hand-over not yet confirmed by WireGuard traffic (see `PeerSession.checkHandover`).
struct HandoverTrial: Sendable, Hashable {
    /// Whether WireGuard had a live session with the peer when the hand-over began.
    var hadSession: Bool
    /// The peer's receive counter at the first check after the hand-over.
    var receivedAtStart: UInt64?
}

extension PeerSession {
    /// The runtime could not install the hand-over's rules: forward the pair instead, for the rest of the run.
    mutating func handoverUnavailable() -> [MeshAction] {
        guard case .handedOver? = path, let generation = current else { return [] }
        handoverTrial = nil
        handoverFailed = true
        path = .forwarded
        pathReason = "port hand-over unavailable (nft missing or refused the rules): forwarded over the ICE component"
        return configureWireGuard(path: .forwarded, instance: generation.instance)
    }
}

extension PeerSession {
    /// The peer's WireGuard datagrams arrived through the ICE agent of the handed-over generation `instance`, where
    /// this side drops them: the prerouting rule hands to WireGuard only what comes from the selected remote candidate,
    /// so the peer sends on another pair. ICE with aggressive nomination lets the two sides select different pairs —
    /// in the lab, one side (relay, relay) while the other selected (reflexive, the first side's relay), whose replies
    /// then come through this side's own TURN allocation. Forwarding receives on every pair, so the generation is
    /// forwarded from now on; a later generation tries the hand-over again. (The runtime reports this once per
    /// hand-over, and not for datagrams that reached the ICE socket before the rules were in place.)
    mutating func handoverBypassed(instance: UInt64, now: Int64) -> [MeshAction] {
        guard case .handedOver(let handover)? = path, let generation = current, generation.instance == instance else { return [] }
        handoverTrial = nil
        path = .forwarded
        current?.pathSince = now
        current?.handshakeNudged = false
        current?.handoverBypassed = true
        receiveWatch.restart(now: now)
        pathReason = "hand-over \(handover) bypassed: the peer's WireGuard datagrams arrive through the ICE agent (its "
            + "ICE agent selected another pair): forwarded over the ICE component for this generation"
        return configureWireGuard(path: .forwarded, instance: instance)
    }
}

extension Mesh {
    /// The runtime could not install `peer`'s port hand-over (see `PeerSession.handoverUnavailable`).
    public mutating func handoverUnavailable(_ peer: PublicKey) -> [MeshAction] {
        guard var session = peers[peer] else { return [] }
        let actions = session.handoverUnavailable()
        peers[peer] = session
        return actions
    }
}
