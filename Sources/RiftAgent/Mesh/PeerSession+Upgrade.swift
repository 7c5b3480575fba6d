import RiftProtocol

// Make before break: WireGuard stays pointed at the standby generation's path until the new generation selects a pair;
// then the standby is closed. If the new generation fails, the standby becomes current again and nothing was
// interrupted.
extension PeerSession {
    /// The pair carrying traffic now: the current generation's, or the standby's while a new one negotiates.
    public var activePair: (local: CandidateEndpoint, remote: CandidateEndpoint)? {
        current?.selectedPair ?? standby?.selectedPair
    }

    /// Whether the pair in use goes through a TURN relay.
    var isRelayed: Bool { (current?.selectedPair != nil ? current : standby)?.isOnRelay ?? false }

    /// Ends the current generation before a new one starts: a generation that carries traffic (healthy, with a path,
    /// or with its consent lost on a path WireGuard still hears, `carriesWithoutICE`: the renewal the controlled side
    /// asked for, whose offer would otherwise leave it without a pair, and a hand-over without its socket, until the
    /// new generation selects) becomes the standby; anything else is closed.
    mutating func retireCurrentICE(now: Int64) -> [MeshAction] {
        guard isHealthy || carriesWithoutICE(now: now), standby == nil, path != nil, let retiring = current,
              retiring.selectedPair != nil else {
            return closeCurrentICE()
        }
        standby = retiring
        current = nil
        return []
    }

    /// Closes the standby session, if any (the new generation took over, or the standby itself failed).
    mutating func closeStandby() -> [MeshAction] {
        guard let closing = standby else { return [] }
        standby = nil
        return [.closeICE(peer: info.publicKey, instance: closing.instance)]
    }

    /// The new generation failed or did not finish in time: close it and make the standby current again. WireGuard
    /// never left the standby's path (only a selected pair moves it, and that closes the standby), so nothing needs
    /// reconfiguring.
    mutating func revertToStandby() -> [MeshAction] {
        guard let restored = standby else { return [] }
        let actions = closeCurrentICE()
        current = restored
        standby = nil
        return actions
    }

    /// How soon the first try off a relay comes when the relay was prepared on suspicion (PeerSession+Suspicion), in
    /// milliseconds: a suspicion can be wrong (a late keepalive or answer), and then the path it left still works.
    static let recheckAfterSuspicion: Int64 = 5_000
    /// The least time between two such early tries, in milliseconds: a path that keeps being suspected falls back to
    /// the ordinary backoff instead of moving every few seconds.
    static let recheckInterval: Int64 = 60_000

    /// Controlling side, healthy tunnel: while the pair goes through the relay, now and then try a new generation
    /// (make before break) in case a direct or server-reflexive path works again, with backoff (about 30 s, then
    /// doubling up to 5 min; the first try 5 s after a move to a relay prepared on suspicion, at most once a minute).
    /// Off the relay, the backoff resets.
    ///
    /// The try gathers no relayed candidate of ours (`Generation.seeksPathOffRelay`): it is there to leave the relay,
    /// and with our relay in it aggressive nomination could select a pair relayed on both ends — coturn twice and the
    /// agents forwarding on both sides, slower than the relayed pair in use (seen in the bench: a relay-to-prflx
    /// pair replaced by relay-to-relay, 0.45 of WireGuard's speed instead of 0.84). The peer's relayed candidates still
    /// count only where the peer did not know its relayed pair was in use: a controlled side leaves its own relay out
    /// of a generation it did not ask for while its relayed pair works (`acceptOffer`), so the try does not move the
    /// tunnel from one relay to the other. If nothing else works it fails, and the relayed session in use stays.
    mutating func considerUpgrade(now: Int64, ids: inout GenerationIDs) -> [MeshAction] {
        guard isRelayed else {
            upgrade.reset()
            nextUpgradeAt = nil
            return []
        }
        // A peer the hub no longer lists cannot answer an offer: its relayed tunnel stays as it is (Mesh+AbsentPeers).
        guard controlling, standby == nil, current?.selectedPair != nil, isHealthy, absentFromHubSince == nil
        else { return [] }
        guard let due = nextUpgradeAt else {
            nextUpgradeAt = now + firstUpgradeDelay(now: now)
            return []
        }
        guard now >= due else { return [] }
        nextUpgradeAt = nil
        return beginGeneration(ids: &ids, forceRelay: false, now: now, keepWorkingPath: true, offRelay: true)
    }

    /// The wait before the next try off the relay: short once after a move on suspicion, else the backoff's.
    private mutating func firstUpgradeDelay(now: Int64) -> Int64 {
        guard current?.startedOnSuspicion == true, now - (lastSuspicionRecheckAt ?? .min / 2) >= Self.recheckInterval
        else { return Int64(upgrade.nextDelay()) }
        lastSuspicionRecheckAt = now
        return Self.recheckAfterSuspicion
    }
}
