import RiftProtocol

/// Roaming: what a change of the host's own network does to each peer.
///
/// A change is not a failure: it does not count toward the recovery backoff or toward relay-only, and the fresh
/// generation starts at once. Which peers it touches:
/// - a peer whose selected local candidate is a host candidate on a vanished address (its path is gone);
/// - a peer on a server-reflexive, peer-reflexive or relayed pair when any address vanished or a default route changed
///   (the pair's base address is not known here, and a new route may mean a new NAT mapping);
/// - a peer without a working path when anything changed (the new network may be the one that works).
/// A peer on an untouched host pair keeps its path. While the hub is away (the runtime reconnects it when the change
/// took its connection's address), the fresh starts wait for the next welcome, so no offer or restart is lost.
/// A peer starts afresh at most once per `freshStartInterval`; a change inside that window waits for its end (the
/// next tick after it), so a flapping link costs each peer at most one new generation every two seconds.
extension Mesh {
    static let freshStartInterval: Int64 = 2_000

    mutating func underlayChanged(vanished: Set<String>, appeared: Set<String>, routeChanged: Bool) -> [MeshAction] {
        var touched: Set<PublicKey> = []
        for (key, peer) in peers {
            if let pair = peer.activePair, peer.isHealthy {
                let gone = pair.local.kind == .host ? vanished.contains(pair.local.address) : !vanished.isEmpty || routeChanged
                if gone { touched.insert(key) }
            } else if !vanished.isEmpty || !appeared.isEmpty || routeChanged {
                touched.insert(key)
            }
        }
        let what = [vanished.isEmpty ? nil : "\(vanished.sorted().joined(separator: ", ")) gone",
                    appeared.isEmpty ? nil : "\(appeared.sorted().joined(separator: ", ")) new",
                    routeChanged ? "default route changed" : nil].compactMap { $0 }.joined(separator: "; ")
        return startAfresh(touched, reason: "network changed (\(what))")
    }

    /// Starts a new generation with each of `keys` now, or at the next welcome while the hub is away. With
    /// `ignoringWindow` (signals that may have been lost, see Mesh+LostSignals) a peer's 2 s window does not delay it.
    mutating func startAfresh(_ keys: Set<PublicKey>, ignoringWindow: Bool = false, reason: String) -> [MeshAction] {
        guard hubConnected else {
            for key in keys { freshStartsAwaitingHub[key] = reason }
            return []
        }
        var actions: [MeshAction] = []
        for key in keys.sorted() where peers[key] != nil {
            if !ignoringWindow, let last = freshStartedAt[key], now - last < Self.freshStartInterval {
                freshStartsAwaitingWindow[key] = reason
                continue
            }
            freshStartedAt[key] = now
            freshStartsAwaitingWindow[key] = nil
            var peer = peers[key]!
            actions += startAfresh(&peer, reason: reason)
            peers[key] = peer
        }
        return actions
    }

    /// The fresh starts that waited for their peer's window (called on every tick).
    mutating func freshStartsAfterWindow() -> [MeshAction] {
        let due = freshStartsAwaitingWindow.filter { key, _ in now - (freshStartedAt[key] ?? 0) >= Self.freshStartInterval }
        guard !due.isEmpty, hubConnected else { return [] }
        var actions: [MeshAction] = []
        for (reason, keys) in Dictionary(grouping: due.keys, by: { due[$0]! }) {
            actions += startAfresh(Set(keys), reason: reason)
        }
        return actions
    }

    /// The fresh starts that waited for the hub (called after a welcome, once presence is applied).
    mutating func freshStartsAfterReconnect() -> [MeshAction] {
        let waiting = freshStartsAwaitingHub
        freshStartsAwaitingHub = [:]
        var actions: [MeshAction] = []
        for (reason, keys) in Dictionary(grouping: waiting.keys, by: { waiting[$0]! }) {
            actions += startAfresh(Set(keys), reason: reason)
        }
        return actions
    }

    /// The controlling side begins a generation, keeping a path that still works until the new one is selected; the
    /// controlled side asks for one with session "none" (PROTOCOL.md §8: its own candidates are gone, so this is not a
    /// failure of the peer's and is answered at once).
    private mutating func startAfresh(_ peer: inout PeerSession, reason: String) -> [MeshAction] {
        peer.recovery.reset()
        peer.failedGenerationsInARow = 0  // a fresh start is not a failure
        peer.nextRecoveryAt = 0
        peer.lastRecoveryReason = reason
        peer.signalAtRiskSince = nil  // this start's own signals count from now
        if peer.controlling {
            let working = peer.isHealthy
            return peer.beginGeneration(ids: &ids, forceRelay: false, now: now, keepWorkingPath: working)
        }
        peer.attemptStartedAt = now
        return [peer.restartRequest(session: "none", reason: reason)]
    }
}
