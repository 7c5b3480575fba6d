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
            guard let recipient = index[relayed.network]?[relayed.to] else {
                logger.debug("cluster signal for a peer not connected here", metadata: ["network": "\(relayed.network)", "peer": "\(relayed.to)"])
                return actions
            }
            metrics.countRelayed(relayed.signal.kind)
            actions.append(.send(.signal(relayed.signal), to: recipient))
        case .sessionClaimed(let session):
            applyRemoteClaim(session, from: message.hub, &actions)
        case .sessionsSnapshot(let snapshot):
            for session in snapshot.sessions { applyRemoteClaim(session, from: message.hub, &actions) }
        case .sessionEnded(let end):
            guard self.cluster?.applyEnd(end, from: message.hub) == true, index[end.network]?[end.key] == nil else { return actions }
            announceLeave(end.key, reason: end.reason.rawValue, in: end.network, except: nil, &actions)
            logger.info("peer left on another hub", metadata: ["network": "\(end.network)", "peer": "\(end.key)", "hub": "\(message.hub)"])
        case .hubAlive, .adminChange:
            // Liveness was recorded by `accept`; administrative changes reach this hub through the shared database's
            // change marker, polled every tick.
            break
        }
        return actions
    }

    /// The bus connection went up (subscriptions in place) or down. Coming back, this hub sends its sessions to every
    /// hub it knows: they may have declared it dead meanwhile.
    public mutating func clusterConnectivityChanged(connected: Bool) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard !isShuttingDown, cluster != nil else { return actions }
        cluster?.setConnected(connected, now: clock.monotonicSeconds())
        logger.notice(connected ? "cluster bus connected" : "cluster bus disconnected; the session table is frozen")
        if connected {
            clusterTick(now: clock.monotonicSeconds(), &actions)
            for hub in (cluster?.lastHeard.keys).map(Array.init) ?? [] { sendSnapshot(to: hub, &actions) }
        }
        return actions
    }

    /// A local session started: subscribe to its signals, then tell the other hubs (PeerInfo without `allow_in`).
    mutating func clusterSessionStarted(_ info: PeerInfo, in network: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        let claim = cluster!.claim(info, in: network, nowMilliseconds: clock.unixMilliseconds())
        actions.append(.subscribeSignals(network: network, key: info.publicKey))
        actions.append(.publish(claim, subject: ClusterSubject.presence(network: network)))
    }

    /// A local session left the index (not replaced): tell the other hubs and drop its signal subscription.
    mutating func clusterSessionEnded(_ key: PublicKey, in network: String, reason: String, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        actions.append(.unsubscribeSignals(network: network, key: key))
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

    /// Heartbeat, and the sessions of hubs silent too long: their peers leave with reason `timeout`.
    mutating func clusterTick(now: Double, _ actions: inout [HubAction<Connection>]) {
        guard cluster != nil else { return }
        if let alive = cluster!.heartbeatIfDue(now: now, sessionCount: metrics.connectedPeers) {
            actions.append(.publish(alive, subject: ClusterSubject.alive(hubID: cluster!.hubID)))
        }
        for session in cluster!.removeDeadHubs(now: now) where index[session.network]?[session.key] == nil {
            announceLeave(session.key, reason: "timeout", in: session.network, except: nil, &actions)
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

    /// Another hub claimed a key. When this hub held it, its connection is closed as `replaced` and leaves the index
    /// without any departure; every local peer of the network is told of the (re)joined peer, as on a replacement on one hub.
    private mutating func applyRemoteClaim(_ session: ClusterSession, from origin: String, _ actions: inout [HubAction<Connection>]) {
        guard let outcome = cluster?.applyClaim(session, from: origin), outcome != .stale else { return }
        let network = session.network
        if case .moved(let previous) = outcome, previous.hubID == cluster!.hubID, let local = index[network]?[session.key] {
            actions.append(.unsubscribeSignals(network: network, key: session.key))
            closeReplacedSession(local, key: session.key, in: network, &actions)
            if index[network]?.isEmpty == true { index[network] = nil }
            logger.info("peer connection replaced by another hub", metadata: ["network": "\(network)", "peer": "\(session.key)", "hub": "\(origin)"])
        }
        guard let peer = session.peer else { return }
        announceJoin(peer, in: network, except: nil, &actions)
    }
}
