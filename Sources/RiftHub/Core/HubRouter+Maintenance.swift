import Logging
import RiftProtocol

extension HubRouter {
    /// Periodic work, called a few times a second (`riftgate-hub`: every 250 ms): revocations, policy changes,
    /// renames, routes and exit nodes changed by other processes (one change-marker read per tick, shared by all of
    /// them, so that they reach live sessions well within a second); the hello deadlines and TURN credential refreshes
    /// that are due (`DeadlineQueue`: no pass over every connection); less often last-seen times and forgetting idle
    /// failure counters.
    public mutating func tick() -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard !isShuttingDown else { return actions }
        let now = clock.monotonicSeconds()
        expireHellos(now: now, &actions)
        refreshTURNCredentials(now: now, &actions)
        let marker = pollChangeMarker(now: now)
        recheckGrants(marker: marker, now: now, &actions)
        if let marker {
            refreshAccess(marker: marker, &actions)
            refreshNames(marker: marker, &actions)
            refreshRoutes(marker: marker, &actions)
            refreshExitNodes(marker: marker, &actions)
        }
        clusterTick(now: now, &actions)
        reportRefusedConnections(now: now)
        if now >= nextEphemeralSweep {
            nextEphemeralSweep = now + Self.ephemeralSweepSeconds(grace: configuration.ephemeralGraceSeconds)
            removeStaleEphemeralPeers(&actions)
        }
        if now >= nextLastSeenFlush {
            nextLastSeenFlush = now + configuration.lastSeenFlushSeconds
            lastSeenBacklog = connectedPeers()
            authLimiter.prune(now: now)
            joinLimiter.prune(now: now)
        }
        writeLastSeen(limit: Self.lastSeenChunk)
        return actions
    }

    /// Graceful shutdown: tell every connection, close it with 1001 and record last-seen times. Later
    /// events are ignored (closes are still accepted), so departures are not announced to peers that are
    /// being closed anyway.
    public mutating func shutdown() -> [HubAction<Connection>] {
        guard !isShuttingDown else { return [] }
        lastSeenBacklog = connectedPeers()
        writeLastSeen(limit: lastSeenBacklog.count)
        isShuttingDown = true
        var actions: [HubAction<Connection>] = []
        for (connection, record) in connections {
            if case .ending = record.phase { continue }
            actions.append(.send(.error(ErrorFrame(ProtocolError(.shuttingDown, "the hub is shutting down; reconnect later"))), to: connection))
            actions.append(.close(connection, code: HubCloseCode.goingAway, reason: "shutting down"))
            connections[connection]?.phase = .ending
        }
        index = [:]
        metrics.connectedPeers = 0
        return actions
    }

    /// How often ephemeral peers are looked for: a tenth of the grace, between one and thirty seconds.
    static func ephemeralSweepSeconds(grace: Int64) -> Double { min(30, max(1, Double(grace) / 10)) }

    /// Removes ephemeral peers gone longer than the grace. A peer's last-seen time is written when it leaves (and every
    /// `lastSeenFlushSeconds` by the hub holding it), so the grace counts from its departure; one connected now, to this
    /// hub or in a cluster to another one, is never removed, whatever its last-seen time says. A removed peer's address
    /// is free for the next one: peers that may still keep a tunnel to it (PROTOCOL.md §6.6) are told it was revoked.
    private mutating func removeStaleEphemeralPeers(_ actions: inout [HubAction<Connection>]) {
        let cutoff = clock.unixSeconds() - configuration.ephemeralGraceSeconds
        let index = self.index
        let cluster = self.cluster
        do {
            let removed = try directory.removeStaleEphemeralPeers(lastSeenBefore: cutoff) { peer in
                index[peer.network]?[peer.publicKey] != nil || cluster?.remoteSession(peer.publicKey, in: peer.network) != nil
            }
            for peer in removed {
                metrics.ephemeralPeersRemoved += 1
                logger.info("ephemeral peer removed", metadata: ["network": "\(peer.network)", "peer": "\(peer.publicKey)"])
                if departures[peer] != nil { announceDepartedRevocation(peer, because: "ephemeral peer removed", &actions) }
            }
        } catch {
            logger.error("removing ephemeral peers failed", metadata: ["error": "\(error)"])
        }
    }

    private mutating func expireHellos(now: Double, _ actions: inout [HubAction<Connection>]) {
        for connection in helloDeadlines.takeDue(now: now) {
            // A stale entry (the connection said hello, closed, or its id now names a newer connection) is skipped.
            guard let deadline = connections[connection]?.phase.helloDeadline, now >= deadline else { continue }
            refuse(connection, ProtocolError(.notAuthenticated, "no hello within \(Int(configuration.helloTimeoutSeconds)) seconds"), &actions)
        }
    }

    /// Schedules the refresh of credentials expiring at `expiresAt` (Unix seconds; `unixNow` is now on that clock):
    /// `refreshMargin` before, on the monotonic clock.
    mutating func scheduleTURNRefresh(_ connection: Connection, expiresAt: Int64, unixNow: Int64) {
        let delay = Double(max(0, expiresAt - configuration.ice.refreshMargin - unixNow))
        turnRefreshes.schedule(TURNRefresh(connection: connection, expiresAt: expiresAt), at: clock.monotonicSeconds() + delay)
    }

    private mutating func refreshTURNCredentials(now: Double, _ actions: inout [HubAction<Connection>]) {
        for due in turnRefreshes.takeDue(now: now) {
            // Stale when the session ended or its credentials were replaced since (another entry then stands for them).
            guard let record = connections[due.connection], case .authenticated(var session) = record.phase,
                  session.turnExpiresAt == due.expiresAt else { continue }
            let unixNow = clock.unixSeconds()
            guard due.expiresAt - unixNow <= configuration.ice.refreshMargin else {
                // The wall clock went back since it was scheduled: look again when the margin is reached.
                scheduleTURNRefresh(due.connection, expiresAt: due.expiresAt, unixNow: unixNow)
                continue
            }
            let (ice, newExpiry) = configuration.ice.servers(for: session.info.publicKey, requestHost: record.requestHost, now: unixNow)
            session.turnExpiresAt = newExpiry
            connections[due.connection]?.phase = .authenticated(session)
            actions.append(.send(.iceServers(ice), to: due.connection))
            if let newExpiry { scheduleTURNRefresh(due.connection, expiresAt: newExpiry, unixNow: unixNow) }
        }
    }

    /// How often a storage outage is logged again while it lasts.
    static var storageOutageLogSeconds: Double { 30 }

    /// The directory's change marker, read once per tick for every kind of state that follows it; nil while storage
    /// does not answer. Polled four times a second: an outage is logged at its start, then every 30 s, not on every
    /// tick, and its end once.
    private mutating func pollChangeMarker(now: Double) -> Int64? {
        do {
            let marker = try directory.changeMarker()
            if storagePollFailures > 0 {
                logger.notice("storage answers again", metadata: ["failed_polls": "\(storagePollFailures)"])
                storagePollFailures = 0
            }
            return marker
        } catch {
            storagePollFailures += 1
            if storagePollFailures == 1 || now >= nextStorageOutageLog {
                logger.error("cannot poll storage for changes", metadata: ["error": "\(error)", "failures": "\(storagePollFailures)"])
                nextStorageOutageLog = now + Self.storageOutageLogSeconds
            }
            return nil
        }
    }

    /// Rechecks every live session's token, key and network when the stored data changed (`marker` moved: the admin
    /// CLI revoked something) or every `recheckSeconds` (tokens expire without a write). Nothing while storage does
    /// not answer (`marker` nil).
    private mutating func recheckGrants(marker: Int64?, now: Double, _ actions: inout [HubAction<Connection>]) {
        guard let marker, marker != lastChangeMarker || now >= nextRecheck else { return }
        lastChangeMarker = marker
        nextRecheck = now + configuration.recheckSeconds
        metrics.networks = (try? directory.networkCount()) ?? metrics.networks
        var grants: [Connection: SessionGrant] = [:]
        for (connection, record) in connections {
            if case .ending = record.phase { continue }
            grants[connection] = record.grant
        }
        let departed = rememberedDepartures(now: now)
        forgetOldRevocations(now: now)
        forgetOldAccessChanges(now: now)
        guard !grants.isEmpty || !departed.isEmpty else { return }
        var withdrawn: [SessionGrant: GrantWithdrawal]
        do {
            withdrawn = try directory.withdrawnGrants(Set(grants.values).union(departed.keys), now: clock.unixSeconds())
        } catch {
            logger.error("cannot recheck sessions", metadata: ["error": "\(error)"])
            return
        }
        announceWithdrawnDepartures(departed, &withdrawn, &actions)
        guard !withdrawn.isEmpty else { return }
        // Only the withdrawn sessions are put in order (sorting every session with string keys stalled the service thread
        // for tens of milliseconds at 10,000 connections, on each recheck).
        let closing = grants.compactMap { entry in withdrawn[entry.value].map { (connection: entry.key, reason: $0, grant: entry.value) } }
        for (connection, reason, grant) in closing.sorted(by: { "\($0.connection)" < "\($1.connection)" }) {
            let error: ProtocolError = switch reason {
            case .networkDeleted: ProtocolError(.unknownNetwork, "network \(grant.network) was deleted")
            case .peerRevoked: ProtocolError(.peerRevoked, "this key was revoked in network \(grant.network)")
            case .tokenRevoked: ProtocolError(.unauthorized, "the token of this session was revoked or expired")
            }
            logger.notice("closing session: access withdrawn", metadata: [
                "network": "\(grant.network)", "token": "\(grant.tokenID)", "peer": "\(grant.publicKey?.description ?? "-")", "reason": "\(reason)",
            ])
            metrics.countRejected(error.code)
            actions.append(.send(.error(ErrorFrame(error)), to: connection))
            end(connection, announce: "revoked", &actions)
            actions.append(.close(connection, code: Self.closeCode(for: error.code), reason: error.code.rawValue))
        }
    }

    /// Last-seen times written per tick: a flush round over N sessions takes N / 1,000 ticks (4 s for 16,000 at
    /// 250 ms), each one statement on PostgreSQL.
    public static var lastSeenChunk: Int { 1_000 }

    /// Every authenticated session's peer, for a flush round.
    private func connectedPeers() -> [PeerAddress] {
        var peers: [PeerAddress] = []
        peers.reserveCapacity(connections.count)
        for record in connections.values {
            guard case .authenticated(let session) = record.phase else { continue }
            peers.append(PeerAddress(network: record.grant.network, publicKey: session.info.publicKey))
        }
        return peers
    }

    /// Writes the last-seen time of up to `limit` peers of the backlog (now), in one transaction. A peer that left
    /// since the round began gets a time a few seconds after its departure, which only delays an ephemeral peer's
    /// removal by as much. On failure the chunk is dropped: the next round writes it again.
    private mutating func writeLastSeen(limit: Int) {
        guard !lastSeenBacklog.isEmpty, limit > 0 else { return }
        let chunk = Array(lastSeenBacklog.suffix(limit))
        lastSeenBacklog.removeLast(chunk.count)
        do {
            try directory.recordLastSeen(chunk, now: clock.unixSeconds())
        } catch {
            logger.error("cannot record last-seen times", metadata: ["error": "\(error)", "peers": "\(chunk.count)"])
        }
    }
}
