import RiftProtocol

/// Peers the hub no longer lists, whose tunnel still works.
///
/// The hub says a peer left when *its hub connection* ended (`disconnected`, `timeout`), which says nothing about the
/// tunnel: a peer whose Wi-Fi dropped its WebSocket, whose hub connection was cut by a proxy, or that sits on the
/// other side of a hub-cluster partition still answers over WireGuard. Removing its WireGuard peer at once cut a
/// working tunnel for the seconds it took to rejoin and renegotiate. Such a peer now keeps its tunnel, its routes,
/// names and inbound rules while the tunnel carries, and is removed as soon as anything needs the hub: its path fails
/// or goes quiet (a new generation would need signaling the peer cannot receive), the system resumes or the underlay
/// changes under it, or `absentPeerGraceMilliseconds` pass. `revoked` and `policy` remove it at once, as before
/// (PROTOCOL.md §6.6). A welcome after a hub outage treats a live tunnel whose peer has not rejoined the same way.
extension Mesh {
    /// The longest a peer the hub no longer lists keeps a working tunnel (5 minutes). The hub announces a departed
    /// peer's revocation (`revoked`) or policy change (`policy`) for longer than that (`HubRouter.departureMemorySeconds`),
    /// and repeats a recent revocation, or a policy change, after the welcome of a session that was off the hub when it
    /// went out (HubRouter+RecentRevocations, HubRouter+MissedPolicyChanges), revocations also after a restart of the
    /// hub (HubRouter+Departures); the bound covers what a hub cannot repeat: a policy change made while it was down,
    /// any policy change past its bound on remembered departures, and, after a restart, the token revocation of a peer
    /// last admitted by a hub that did not record tokens.
    static let absentPeerGraceMilliseconds: Int64 = 300_000

    /// Whether a `peer_left` reason ends the tunnel whatever its state: the hub withdrew the peer's access, or no
    /// longer introduces the two of us. Every other reason, unknown ones included (§6.6: treated like
    /// `disconnected`), only means its hub connection ended.
    static func leaveEndsTunnel(_ reason: String) -> Bool { reason == "revoked" || reason == "policy" }

    /// `peer_left`: removed, unless only its hub connection ended and its tunnel still carries.
    mutating func peerLeft(_ key: PublicKey, reason: String) -> [MeshAction] {
        guard !Self.leaveEndsTunnel(reason), peers[key]?.carriesTraffic(now: now) == true else { return removePeer(key) }
        keepWhileAbsent(key)
        return []
    }

    /// Marks `key` as no longer listed by the hub (the grace counts from the first time).
    mutating func keepWhileAbsent(_ key: PublicKey) {
        guard peers[key]?.absentFromHubSince == nil else { return }
        peers[key]?.absentFromHubSince = now
    }

    /// After an event: an absent peer whose session now needs the hub (it started a generation or asked for one),
    /// whose path stopped carrying, or whose grace ran out, is removed instead — from its state before the event, so
    /// that nothing the event would have started is left behind.
    mutating func removeAbsentPeersThatNeedTheHub(_ actions: [MeshAction], before: [PublicKey: PeerSession]) -> [MeshAction] {
        var actions = actions
        for key in peers.keys.sorted() {
            guard let session = peers[key], let since = session.absentFromHubSince else { continue }
            let needsHub = actions.contains { action in
                switch action {
                case .startICE(let peer, _, _, _): peer == key
                case .sendSignal(let payload): payload.to == key
                default: false
                }
            }
            guard needsHub || !session.carriesTraffic(now: now) || now - since >= Self.absentPeerGraceMilliseconds
            else { continue }
            actions.removeAll { $0.peer == key }
            if let earlier = before[key] { peers[key] = earlier }
            actions += removePeer(key)
        }
        return actions
    }

    /// Whether any peer is kept while absent (so that `handle` copies the sessions before an event only then).
    var hasAbsentPeers: Bool { peers.values.contains { $0.absentFromHubSince != nil } }
}

extension PeerSession {
    /// WireGuard has a path to the peer and still hears it, and no generation is under way (it would need the hub):
    /// what a peer the hub no longer lists needs to keep its tunnel. A handshake under three minutes old alone does
    /// not say that: it outlives a dead path.
    func carriesTraffic(now: Int64) -> Bool {
        isConnected && path != nil && pathLostAt == nil && !receiveWatch.isDead(now: now)
            && standby == nil && current?.selectedPair != nil
    }
}

extension MeshAction {
    /// The peer an action concerns.
    var peer: PublicKey {
        switch self {
        case .sendSignal(let payload): payload.to
        case .startICE(let peer, _, _, _), .setRemoteDescription(let peer, _, _, _, _), .addRemoteCandidate(let peer, _, _),
             .remoteGatheringDone(let peer, _), .closeICE(let peer, _), .bindForwarding(let peer, _),
             .releaseForwarding(let peer, _): peer
        case .configureWireGuardPeer(let info, _, _, _), .probePath(let info), .restartWireGuardHandshake(let info, _, _):
            info.publicKey
        case .removeWireGuardPeer(let key), .sendKeepalive(let key): key
        }
    }
}
