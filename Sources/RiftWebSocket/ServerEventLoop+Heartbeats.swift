internal import CRiftWebSockets

/// Heartbeats, done by the server itself rather than by lws' per-connection validity timers: lws keeps those in one
/// sorted list and re-inserts a connection's timer by walking it, O(connections) per received frame or pong.
///
/// Every connection records when it was last heard from (any frame, pongs included: O(1) per frame). Every 100 ms
/// (`heartbeatSlot`) `heartbeatTick` takes the connections whose slot came from a `HeartbeatWheel` and looks at each
/// (slots this short spread the pings over the second instead of writing a second's worth in one burst): silent for
/// `pingInterval` → a ping is sent (and again every `pingInterval` while it stays silent); silent for `pongTimeout`,
/// with a ping unanswered for `pongTimeout − pingInterval` → dropped and reported as `heartbeatTimeout`. A wheel
/// bucket is looked at up to one slot late, so a dead connection is dropped between `pongTimeout` and
/// `pongTimeout` + 0.2 s after it was last heard from (plus however late the service thread is: three ping
/// intervals with the hub's defaults of 20 s and 60 s), and a live one costs one look per `pingInterval` of
/// silence.
extension ServerEventLoop {
    /// The wheel's time unit.
    static let heartbeatSlot = Duration.milliseconds(100)

    /// Whole slots from the heartbeat epoch to `instant`, rounded up (a due time) or down (the present).
    func heartbeatSlotIndex(_ instant: ContinuousClock.Instant, roundingUp: Bool = true) -> Int64 {
        let elapsed = instant - heartbeatEpoch
        let slots = Int64(elapsed / Self.heartbeatSlot)
        return roundingUp && Self.heartbeatSlot * slots < elapsed ? slots + 1 : slots
    }

    /// Starts watching a new connection's silence.
    func watchHeartbeat(of connection: ServerConnection) {
        heartbeats.schedule(connection.id, at: heartbeatSlotIndex(connection.lastHeardFrom + configuration.pingInterval))
    }

    /// Looks at every connection whose slot came; runs on the service thread every slot.
    func heartbeatTick() {
        passes.activity.timers &+= 1
        let now = ContinuousClock.now
        for id in heartbeats.advance(to: heartbeatSlotIndex(now, roundingUp: false)) {
            guard let connection = connections[id], connection.pendingClose == nil, !connection.droppedSilent else {
                continue  // closed, or closing with a timeout of its own
            }
            checkSilence(of: connection, now: now)
        }
        if let contextPointer { heartbeatTimer.schedule(on: contextPointer, after: Self.heartbeatSlot) }
    }

    private func checkSilence(of connection: ServerConnection, now: ContinuousClock.Instant) {
        let heard = connection.lastHeardFrom
        guard now - heard >= configuration.pingInterval else {
            heartbeats.schedule(connection.id, at: heartbeatSlotIndex(heard + configuration.pingInterval))
            return
        }
        // The time a peer gets to answer a ping: the last ping must be at least that old before a drop, because the
        // wheel looks up to a slot late and the first ping may go out close to `pongTimeout` already.
        let answerTime = configuration.pongTimeout - configuration.pingInterval
        if let ping = connection.lastPingSent, ping > heard, let first = connection.firstUnansweredPing, first > heard {
            // Measured from the first unanswered ping: the re-pings sent every `pingInterval` while the peer stays
            // silent must not postpone the drop forever (they would whenever pongTimeout > 2 × pingInterval).
            if now - heard >= configuration.pongTimeout && now - first >= answerTime {
                drop(connection)
                return
            }
            if now - ping >= configuration.pingInterval { sendPing(connection, now: now) }
        } else {
            sendPing(connection, now: now)
        }
        let ping = connection.lastPingSent ?? now
        let first = connection.firstUnansweredPing ?? ping
        let next = min(ping + configuration.pingInterval, max(heard + configuration.pongTimeout, first + answerTime))
        heartbeats.schedule(connection.id, at: heartbeatSlotIndex(next))
    }

    private func sendPing(_ connection: ServerConnection, now: ContinuousClock.Instant) {
        if connection.firstUnansweredPing.map({ $0 <= connection.lastHeardFrom }) ?? true { connection.firstUnansweredPing = now }
        connection.lastPingSent = now
        connection.pingDue = true
        lws_callback_on_writable(connection.wsi)
    }

    /// Drops a connection that stopped answering: closed from lws' next service pass, without a close handshake.
    private func drop(_ connection: ServerConnection) {
        connection.droppedSilent = true
        connection.deliversInput = false
        connection.outbound.removeAll()
        lws_set_timeout(connection.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
    }
}
