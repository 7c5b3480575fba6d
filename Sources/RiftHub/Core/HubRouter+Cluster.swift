import Logging
public import RiftCluster
public import RiftProtocol

/// The hub cluster (docs/architecture.md, "Hub cluster"): what the router tells the other hubs, and what it does with
/// their messages. Nothing here runs for the single hub (`cluster` is nil). Messages from the bus are events like
/// frames from a WebSocket: the transport hands them to the router on its service thread, one at a time.
extension HubRouter {
    /// A message from the bus (already decoded). Duplicates and this hub's own messages are dropped.
    public mutating func clusterReceived(_ message: ClusterMessage) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard !isShuttingDown, var cluster else { return actions }
        let (isNew, newHub) = cluster.accept(message, now: clock.monotonicSeconds())
        self.cluster = cluster
        if newHub {
            logger.info("cluster: new hub heard", metadata: ["hub": "\(message.hub)"])
            sendSnapshot(to: message.hub, &actions)
        }
        guard isNew else { return actions }
        switch message.body {
        case .signal(let relayed):
            deliverRemoteSignal(relayed, from: message.hub, &actions)
        case .sessionClaimed(let session):
            guard let outcome = self.cluster?.applyClaim(session, from: message.hub, sequence: message.sequence) else { break }
            applyRemoteClaim(session, outcome, from: message.hub, &actions)
        case .sessionsSnapshot(let snapshot):
            guard let outcome = self.cluster?.applySnapshot(snapshot, from: message.hub) else { break }
            for (session, claim) in outcome.claims { applyRemoteClaim(session, claim, from: message.hub, &actions) }
            for session in outcome.removed where index[session.network]?[session.key] == nil {
                announceLeave(session.key, reason: "timeout", in: session.network, except: nil, &actions)
                noteDeparture(session.key, in: session.network, tokenID: session.tokenID, reason: "timeout")
                logger.notice("peer left: its hub's snapshot no longer lists it", metadata: [
                    "network": "\(session.network)", "peer": "\(session.key)", "hub": "\(message.hub)",
                ])
            }
        case .sessionsRequest:
            sendSnapshot(to: message.hub, &actions)
        case .sessionEnded(let end):
            guard let ended = self.cluster?.applyEnd(end, from: message.hub), index[end.network]?[end.key] == nil
            else { return actions }
            announceLeave(end.key, reason: end.reason.rawValue, in: end.network, except: nil, &actions)
            noteDeparture(end.key, in: end.network, tokenID: ended.tokenID, reason: end.reason.rawValue)
            logger.info("peer left on another hub", metadata: ["network": "\(end.network)", "peer": "\(end.key)", "hub": "\(message.hub)"])
        case .hubAlive:
            break  // liveness was recorded by `accept`, a gap before it too
        }
        return actions
    }

    /// The bus connection went up (subscriptions in place) or down. Coming back, this hub sends its sessions to every
    /// hub it knows (they may have declared it dead meanwhile) and asks each for theirs (it may have missed broadcasts).
    public mutating func clusterConnectivityChanged(connected: Bool) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard !isShuttingDown, cluster != nil else { return actions }
        cluster?.setConnected(connected, now: clock.monotonicSeconds())
        logger.notice(connected ? "cluster bus connected" : "cluster bus disconnected; the session table is frozen")
        if connected {
            for hub in cluster?.knownHubs ?? [] { sendSnapshot(to: hub, &actions) }
            for hub in cluster?.requestSnapshotsFromEveryone(now: clock.monotonicSeconds()) ?? [] { requestSnapshot(from: hub, &actions) }
            clusterTick(now: clock.monotonicSeconds(), &actions)  // after the requests: no second one for a gap
        }
        return actions
    }

    /// A local session started: tell the other hubs (PeerInfo without `allow_in`, and the id of the token it presented,
    /// for their departure records). Its signals arrive on this hub's signal subject, subscribed once when the bus
    /// connected: a join makes no round trip to NATS.
    mutating func clusterSessionStarted(_ info: PeerInfo, in network: String, tokenID: String,
                                        _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        let claim = cluster!.claim(info, in: network, tokenID: tokenID, nowMilliseconds: clock.unixMilliseconds())
        actions.append(.publish(claim, subject: ClusterSubject.presence(network: network)))
    }

    /// An administrator changed the peer of a local session (`info` is its new description): the other hubs get the
    /// same session claimed again with it, and tell their own sessions as this hub told its own.
    mutating func clusterSessionUpdated(_ info: PeerInfo, in network: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil, let message = cluster!.update(info, in: network) else { return }
        actions.append(.publish(message, subject: ClusterSubject.presence(network: network)))
    }

    /// A local session left the index (not replaced): tell the other hubs.
    mutating func clusterSessionEnded(_ key: PublicKey, in network: String, reason: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        if let message = cluster!.end(key, in: network, reason: SessionEnd.Reason(rawValue: reason) ?? .disconnected) {
            actions.append(.publish(message, subject: ClusterSubject.presence(network: network)))
        }
    }

    /// Relays a signal to a peer whose session is on another hub; false when no hub holds it. The sender's checks
    /// (network, policy, rate limit) were made by the caller, and `signal.from` is the sender's proven key.
    mutating func relayToOtherHub(_ signal: RelayedSignal, to key: PublicKey, in network: String, _ actions: inout [HubAction<Connection>]) -> Bool {
        guard cluster != nil, let (subject, message) = cluster!.signal(signal, to: key, in: network) else { return false }
        metrics.countRelayed(signal.kind)
        actions.append(.publish(message, subject: subject))
        return true
    }

    /// Heartbeat, snapshots to ask for (broadcasts lost), and the sessions of hubs silent too long: their peers leave
    /// with reason `timeout`.
    mutating func clusterTick(now: Double, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        for hub in cluster!.snapshotRequestsDue(now: now) {
            logger.notice("cluster: broadcasts of a hub were lost; asking for its sessions", metadata: ["hub": "\(hub)"])
            requestSnapshot(from: hub, &actions)
        }
        if let alive = cluster!.heartbeatIfDue(now: now, sessionCount: metrics.connectedPeers) {
            actions.append(.publish(alive, subject: ClusterSubject.alive(hubID: cluster!.hubID)))
        }
        for session in cluster!.removeDeadHubs(now: now) where index[session.network]?[session.key] == nil {
            announceLeave(session.key, reason: "timeout", in: session.network, except: nil, &actions)
            noteDeparture(session.key, in: session.network, tokenID: session.tokenID, reason: "timeout")
            metrics.countSessionEnded("timeout")
            logger.notice("peer left with its silent hub", metadata: [
                "network": "\(session.network)", "peer": "\(session.key)", "hub": "\(session.hubID)",
            ])
        }
    }

    private mutating func sendSnapshot(to hub: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        for part in cluster!.snapshot() { actions.append(.publish(part, subject: ClusterSubject.sessions(hubID: hub))) }
    }

    private mutating func requestSnapshot(from hub: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        actions.append(.publish(cluster!.snapshotRequest(), subject: ClusterSubject.sessions(hubID: hub)))
    }

    /// A signal from another hub: delivered to the local session holding its recipient; passed on once to the hub that
    /// holds it now when the key moved away (the sender's hub had not yet heard of the move); else dropped.
    private mutating func deliverRemoteSignal(_ relayed: ClusterSignal, from origin: String, _ actions: inout [HubAction<Connection>]) {
        if let recipient = index[relayed.network]?[relayed.to] {
            metrics.countRelayed(relayed.signal.kind)
            actions.append(.send(.signal(relayed.signal), to: recipient))
            return
        }
        if !relayed.forwarded,
           let (subject, message) = cluster?.signal(relayed.signal, to: relayed.to, in: relayed.network, forwarded: true) {
            actions.append(.publish(message, subject: subject))
            logger.debug("cluster signal passed on to the hub now holding its peer", metadata: ["network": "\(relayed.network)", "peer": "\(relayed.to)"])
            return
        }
        logger.debug("cluster signal for a peer not connected here", metadata: [
            "network": "\(relayed.network)", "peer": "\(relayed.to)", "hub": "\(origin)",
        ])
    }

    /// Another hub claimed a key (`outcome` says what the table made of it). When this hub held it, its connection is
    /// closed as `replaced` and leaves the index without any departure; every local peer of the network is told of the
    /// (re)joined peer, as on a replacement on one hub. An update is told to the sessions that see what changed.
    private mutating func applyRemoteClaim(_ session: ClusterSession, _ outcome: ClusterState.ClaimOutcome, from origin: String,
                                           _ actions: inout [HubAction<Connection>]) {
        guard outcome != .stale else { return }
        let network = session.network
        forgetDeparture(session.key, in: network)  // back, on another hub: no departure to announce any more
        forgetRevocation(session.key, in: network)  // and admitted anew, if it had been revoked
        if case .updated(let previous) = outcome {
            guard let peer = session.peer, index[network]?[session.key] == nil else { return }
            announceJoin(peer, in: network, except: nil, minimumVersion: Self.versionSeeing(change: previous.peer, to: peer), &actions)
            logger.info("peer changed by the administrator, on another hub", metadata: ["network": "\(network)", "peer": "\(session.key)", "hub": "\(origin)"])
            return
        }
        if case .moved(let previous) = outcome, previous.hubID == cluster!.hubID, let local = index[network]?[session.key] {
            closeReplacedSession(local, key: session.key, in: network, &actions)
            if index[network]?.isEmpty == true { index[network] = nil }
            logger.info("peer connection replaced by another hub", metadata: ["network": "\(network)", "peer": "\(session.key)", "hub": "\(origin)"])
        }
        guard let peer = session.peer else { return }
        announceJoin(peer, in: network, except: nil, &actions)
    }

    /// The oldest protocol version told of a change of a peer from `old` to `new`: everyone for a name, DNS name or
    /// address (as `refreshNames` tells), version 4 for routes, version 5 for the exit node alone.
    static func versionSeeing(change old: PeerInfo?, to new: PeerInfo) -> Int64 {
        guard var seen = old else { return ProtocolVersion.v1 }
        seen.routes = new.routes
        seen.exitNode = new.exitNode
        if seen != new { return ProtocolVersion.v1 }
        return old?.routes != new.routes ? ProtocolVersion.v4 : ProtocolVersion.v5
    }
}
