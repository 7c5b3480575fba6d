import RiftProtocol

/// An ICE session of an earlier generation that keeps carrying a peer's traffic while a newer generation negotiates.
///
/// Make before break: WireGuard stays pointed at this session's path until the new generation selects a pair; then
/// this session is closed. If the new generation fails, this one becomes current again and nothing was interrupted.
public struct StandbyLink: Sendable {
    /// The runtime's ICE session of the earlier generation.
    public var instance: UInt64
    /// Its ICE connectivity (a failure drops it).
    public var connectivity: ICEConnectivity
    /// The pair that carries the traffic.
    public var pair: (local: CandidateEndpoint, remote: CandidateEndpoint)
    /// How WireGuard reaches the peer over it.
    public var path: DataPathMode
    var pathReason: String
    var pathSince: Int64?
}

extension PeerSession {
    /// The pair carrying traffic now: the current generation's, or the standby's while a new one negotiates.
    public var activePair: (local: CandidateEndpoint, remote: CandidateEndpoint)? { selectedPair ?? standby?.pair }

    /// Whether the pair in use goes through a TURN relay.
    var isRelayed: Bool {
        guard let pair = activePair else { return false }
        return pair.local.kind == .relayed || pair.remote.kind == .relayed
    }

    /// Ends the current generation before a new one starts: a session that carries traffic (healthy, with a path)
    /// becomes the standby; anything else is closed.
    mutating func retireCurrentICE() -> [MeshAction] {
        guard isHealthy, standby == nil, let instance, let selectedPair, let path else { return closeCurrentICE() }
        standby = StandbyLink(instance: instance, connectivity: connectivity, pair: selectedPair, path: path,
                              pathReason: pathReason, pathSince: pathSince)
        self.instance = nil
        localCredentials = nil
        remoteDescriptionSet = false
        localHostEndpoints = []
        remoteHostEndpoints = []
        self.selectedPair = nil
        connectivity = .idle
        return []
    }

    /// Closes the standby session, if any (the new generation took over, or the standby itself failed).
    mutating func closeStandby() -> [MeshAction] {
        guard let standby else { return [] }
        self.standby = nil
        return [.closeICE(peer: info.publicKey, instance: standby.instance)]
    }

    /// The new generation failed or did not finish in time: close it and make the standby current again. WireGuard
    /// never left the standby's path, so nothing needs reconfiguring.
    mutating func revertToStandby() -> [MeshAction] {
        guard let standby else { return [] }
        let actions = closeCurrentICE()
        instance = standby.instance
        connectivity = standby.connectivity
        selectedPair = standby.pair
        path = standby.path
        pathReason = standby.pathReason
        pathSince = standby.pathSince
        remoteDescriptionSet = true
        self.standby = nil
        return actions
    }

    /// Controlling side, healthy tunnel: while the pair goes through the relay, now and then try a new generation
    /// (make before break) in case a direct or server-reflexive path works again, with backoff (about 30 s, then
    /// doubling up to 5 min). Off the relay, the backoff resets.
    mutating func considerUpgrade(now: Int64, newInstance: () -> UInt64, sessionID: () -> String) -> [MeshAction] {
        guard isRelayed else {
            upgrade.reset()
            nextUpgradeAt = nil
            return []
        }
        guard controlling, standby == nil, selectedPair != nil, isHealthy else { return [] }
        guard let due = nextUpgradeAt else {
            nextUpgradeAt = now + Int64(upgrade.nextDelay())
            return []
        }
        guard now >= due else { return [] }
        nextUpgradeAt = nil
        return beginGeneration(instance: newInstance(), sessionID: sessionID(), forceRelay: false, now: now,
                               keepWorkingPath: true)
    }
}
