import RiftProtocol

// Failover, make before break (issue 12 item 3): when the path in use goes quiet (`ReceiveWatch.isSuspect`), the
// controlling side starts a relay-only generation at once, beside the current one, instead of waiting for the path to
// be dead and then negotiating. WireGuard stays on the old path until the new generation selects a pair (that is what
// moves it, on both sides, as for any generation); if the old path speaks again first, the new generation is closed
// and nothing changed. So the negotiation (one exchange through the hub, a TURN allocation, checks: 17-22 ms in the
// lab, 50-70 ms before relay-only generations paced libnice at 5 ms) runs during the silence instead of after it; the
// outage is the suspicion deadline (docs/performance.md, "Failover").
extension PeerSession {
    /// How long after a relay prepared on suspicion was given up (the path spoke again) no other one is started, in
    /// milliseconds. The dead-path rule (`ReceiveWatch.silenceDeadline`) still applies meanwhile.
    static let suspicionCooldown: Int64 = 10_000

    /// Controlling side: starts the relay-only generation when the path in use is suspected and a relay can be
    /// prepared beside it (see `canPrepareRelay`). Nil when none is started; the caller's other rules apply then.
    mutating func startOnSuspicion(now: Int64, relayAvailable: Bool, ids: inout GenerationIDs) -> [MeshAction]? {
        guard controlling, canPrepareRelay(now: now, relayAvailable: relayAvailable), receiveWatch.isSuspect(now: now)
        else { return nil }
        return prepareRelay(reason: "\(receiveWatch.suspicionSummary(now: now)): relay prepared beside the path",
                            now: now, ids: &ids)
    }

    /// Controlling side: the controlled side asked for a restart (it may suspect the path before this side can: only
    /// the side that keeps sending into a silence can tell a cut from the end of the traffic, and that may be the
    /// controlled side). Where a relay can be prepared beside the path, that is the restart; the old path keeps
    /// carrying until the relay is selected. A wrong suspicion over there is given up only if this side's next
    /// counter read (every 250 ms) hears the path before the relay is selected (`abandonSuspicionIfHeard`); the
    /// relay-only negotiation usually takes ~20 ms, so such a suspicion mostly moves the tunnel to the relay until
    /// the early try off it 5 s later (PeerSession+Upgrade). Nil when none is started.
    mutating func prepareOnRequest(reason: String, now: Int64, relayAvailable: Bool,
                                   ids: inout GenerationIDs) -> [MeshAction]? {
        guard controlling, canPrepareRelay(now: now, relayAvailable: relayAvailable) else { return nil }
        return prepareRelay(reason: "peer asked: \(reason): relay prepared beside the path", now: now, ids: &ids)
    }

    /// Controlled side: the path in use is suspected (the same rule as the controlling side's): ask for a restart at
    /// once, which the controlling side turns into a relay prepared beside the path (`prepareOnRequest`), instead of
    /// waiting for the 3 s deadline. Once per suspicion: the next ask waits out the cooldown (the 3 s rule still asks
    /// meanwhile). Nil when not asked.
    mutating func askOnSuspicion(now: Int64, relayAvailable: Bool) -> [MeshAction]? {
        guard !controlling, canPrepareRelay(now: now, relayAvailable: relayAvailable), receiveWatch.isSuspect(now: now)
        else { return nil }
        let reason = receiveWatch.suspicionSummary(now: now)
        nextSuspicionAt = now + Self.suspicionCooldown
        lastRecoveryReason = "\(reason): asked the peer to prepare the relay"
        return [restartRequest(session: session ?? "none", reason: reason)]
    }

    /// Whether a relay-only generation can be prepared beside the path in use: TURN known, the path not relayed
    /// already, ICE still healthy so the generation can be kept as the standby, no other generation under way, no
    /// cooldown or backoff running.
    private func canPrepareRelay(now: Int64, relayAvailable: Bool) -> Bool {
        guard relayAvailable, !isRelayed, standby == nil, handoverTrial == nil, isHealthy,
              let generation = current, generation.selectedPair != nil, generation.pathSince != nil else { return false }
        return now >= nextSuspicionAt && now >= nextRecoveryAt
    }

    /// Starts the relay-only generation beside the current one, which becomes the standby.
    private mutating func prepareRelay(reason: String, now: Int64, ids: inout GenerationIDs) -> [MeshAction] {
        lastRecoveryReason = reason
        nextRecoveryAt = now + Int64(recovery.nextDelay())
        let actions = beginGeneration(ids: &ids, forceRelay: true, now: now, keepWorkingPath: true)
        current?.startedOnSuspicion = true
        return actions
    }

    /// Controlling side, while a generation started on suspicion negotiates: if the old path spoke again (anything
    /// received since the generation began), the suspicion was wrong (a late keepalive, a pause in the peer's
    /// traffic): close the new generation and keep the old path, which never stopped carrying. Nil while the silence
    /// lasts.
    mutating func abandonSuspicionIfHeard(now: Int64) -> [MeshAction]? {
        guard controlling, let generation = current, generation.startedOnSuspicion, generation.selectedPair == nil,
              standby != nil, receiveWatch.receivedAt > attemptStartedAt else { return nil }
        lastRecoveryReason = "the path went quiet, then spoke again before the relay was ready: kept it"
        nextSuspicionAt = now + Self.suspicionCooldown
        recovery.reset()
        nextRecoveryAt = 0
        return revertToStandby()
    }

    /// A generation started on suspicion failed or found no pair in time (TURN unreachable, say): the next one waits
    /// out the cooldown, and meanwhile the dead-path rule decides (a relay-only generation with backoff, as before),
    /// instead of a new preparation at every tick.
    mutating func coolDownSuspicion(now: Int64) {
        if current?.startedOnSuspicion == true { nextSuspicionAt = now + Self.suspicionCooldown }
    }

    /// Whether a generation started on suspicion is negotiating: a restart the peer asks for meanwhile is the same
    /// failure seen from the other side, already being handled.
    var preparingRelayOnSuspicion: Bool { current?.startedOnSuspicion == true && current?.selectedPair == nil }
}
