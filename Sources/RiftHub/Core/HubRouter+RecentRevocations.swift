import RiftProtocol

/// Peers whose access was withdrawn lately (announced as left with reason `revoked`), told again to every session that
/// joins while they are remembered.
///
/// An agent keeps a working tunnel to a peer the hub no longer lists for up to five minutes (PROTOCOL.md §6.6), and
/// removes it at once on `peer_left` `revoked`. An agent that was itself off the hub when that notice went out never
/// heard it, and its next welcome does not list the peer, which reads the same as a peer that is merely offline: it
/// kept the tunnel of a revoked peer until its grace ran out. So for `departureMemorySeconds` (longer than that grace)
/// the hub remembers every revocation it announced, and sends it again right after the welcome of each session of the
/// network that the policy introduces the peer to. An agent that never knew the peer ignores the notice.
extension HubRouter {
    /// Records that `key`'s access in `network` was withdrawn and announced now.
    mutating func noteRevocation(_ key: PublicKey, in network: String) {
        recentRevocations[network, default: [:]][key] = clock.monotonicSeconds()
    }

    /// `key` was admitted again in `network`: its revocation no longer stands.
    mutating func forgetRevocation(_ key: PublicKey, in network: String) {
        guard recentRevocations[network]?.removeValue(forKey: key) != nil else { return }
        if recentRevocations[network]?.isEmpty == true { recentRevocations[network] = nil }
    }

    /// Tells `recipient`'s new session on `connection` of every revocation in `network` still remembered that the
    /// policy would have told it of, unless the peer is connected again (here, or on another hub of a cluster: it was
    /// admitted anew).
    mutating func announceRecentRevocations(to connection: Connection, recipient: PublicKey, in network: String,
                                            _ actions: inout [HubAction<Connection>]) {
        guard let revoked = recentRevocations[network] else { return }
        let now = clock.monotonicSeconds()
        let access = networkAccess(network)
        for (key, at) in revoked.sorted(by: { $0.key < $1.key }) where now - at < Self.departureMemorySeconds
            && key != recipient && access.introduces(key, recipient)
            && index[network]?[key] == nil && cluster?.remoteSession(key, in: network) == nil {
            actions.append(.send(.peerLeft(PeerLeft(publicKey: key, reason: "revoked")), to: connection))
        }
    }

    /// Drops the revocations older than `departureMemorySeconds` (from the periodic recheck).
    mutating func forgetOldRevocations(now: Double) {
        recentRevocations = recentRevocations.compactMapValues { revoked in
            let kept = revoked.filter { now - $0.value < Self.departureMemorySeconds }
            return kept.isEmpty ? nil : kept
        }
    }
}
