internal import CRiftWebSockets

/// The single lws protocol callback of every server context. lws calls it on the service
/// thread; the context's user pointer is the `ServerEventLoop` (kept alive by `LWSContext`).
func serverProtocolCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    if reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS {
        // While the TLS listener is created: `user` is its SSL_CTX (see the shim for why no tickets).
        guard let user, CRiftWebSockets_issue_no_session_tickets(user) == 1 else { return 1 }
        return 0
    }
    guard let wsi, let context = lws_get_context(wsi), let owner = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let loop = Unmanaged<ServerEventLoop>.fromOpaque(owner).takeUnretainedValue()
    switch reason {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        loop.drainInbox()
        return 0
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return loop.filterAccepted(user)
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return loop.shutdownFrame == nil ? 0 : 1
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        loop.acceptedSocketInstantiated(wsi)
        guard loop.connectionAccepted(wsi) == 0 else { return -1 }
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    case LWS_CALLBACK_ESTABLISHED:
        loop.passes.activity.accepts &+= 1
        loop.acceptedSocketUpgraded(wsi)
        return loop.connectionEstablished(wsi)
    case LWS_CALLBACK_RECEIVE:
        loop.passes.activity.framesRead &+= 1
        loop.received(wsi, UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
        return 0
    case LWS_CALLBACK_RECEIVE_PONG:
        loop.heardFrom(wsi)
        return 0
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        loop.heardFrom(wsi, closing: true)
        return 0
    case LWS_CALLBACK_SERVER_WRITEABLE:
        loop.passes.activity.writes &+= 1
        return loop.connectionWriteable(wsi)
    case LWS_CALLBACK_CLOSED:
        loop.connectionEnded(wsi)
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    case LWS_CALLBACK_WSI_DESTROY:
        loop.connectionEnded(wsi)
        loop.acceptedSocketDestroyed(wsi)
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    case LWS_CALLBACK_HTTP:
        loop.passes.activity.httpRequests &+= 1
        return loop.httpRequested(wsi, path: UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return loop.httpWriteable(wsi)
    case LWS_CALLBACK_CLOSED_HTTP:
        loop.pendingHTTPBodies[wsi] = nil
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}

extension ServerEventLoop {
    /// A WebSocket handshake completed: registers the connection and tells the handler.
    /// Refused (closed at once, the handler never hears of it) while shutting down.
    func connectionEstablished(_ wsi: OpaquePointer) -> Int32 {
        guard shutdownFrame == nil, handler != nil else { return -1 }
        let id = ConnectionID.next()
        let request = UpgradeRequest(readingFrom: wsi)
        let connection = ServerConnection(
            id: id, wsi: wsi, group: fairness.group(ofPath: request.path),
            outbound: OutboundQueue(
                maximumMessages: configuration.maximumQueuedMessagesPerConnection,
                maximumBytes: configuration.maximumQueuedBytesPerConnection),
            inbound: MessageAssembler(maximumBytes: configuration.maximumMessageBytes,
                                      maximumFrames: configuration.maximumFragmentsPerMessage),
            frameBudget: FrameBudget(burst: configuration.frameBurst, perSecond: configuration.framesPerSecond))
        connections[id] = connection
        connectionIDs[wsi] = id
        watchHeartbeat(of: connection)
        dispatch(.opened(id, request), group: connection.group)
        return 0
    }

    /// A piece of a message arrived; whole messages go to the handler.
    func received(_ wsi: OpaquePointer, _ bytes: UnsafeRawBufferPointer) {
        guard let id = connectionIDs[wsi], let connection = connections[id] else { return }
        // Any frame from the peer proves the connection alive, not only a pong (see `ServerEventLoop+Heartbeats`).
        let now = ContinuousClock.now
        connection.lastHeardFrom = now
        if refusedUnmaskedFrames(connection) { return }
        if let close = connection.closeAfterDiscarding {
            finishDiscarding(connection, bytes: bytes.count, close: close)
            return
        }
        guard connection.deliversInput else { return }
        // Charged per frame, not per read: a frame may arrive in any number of TCP segments.
        guard !connection.inbound.nextPieceStartsFrame || connection.frameBudget.take(now: now) else {
            closeOverBudget(connection)
            return
        }
        let outcome = connection.inbound.receive(
            bytes, isFinal: lws_is_final_fragment(wsi) != 0, isBinary: lws_frame_is_binary(wsi) != 0,
            remainingInFrame: Int(lws_remaining_packet_payload(wsi)))
        switch outcome {
        case .incomplete:
            break
        case .message(let text):
            dispatch(.received(id, text), group: connection.group)
        case .oversized:
            connection.deliversInput = false
            flushHeldEvents(of: connection.group)  // the handler hears of the earlier messages first
            handler?.connectionSentOversizedMessage(id)
            let close = CloseFrame(code: 1009, reason: "message too big")
            if connection.inbound.isDiscarding {
                // Read the rest of the message first (bounded in bytes, frames and time), then close; see
                // `closeAfterDiscarding`. A client that stops sending is dropped when the close timeout fires.
                connection.closeAfterDiscarding = close
                lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, Int32(configuration.closeTimeout.wholeSecondsRoundedUp))
            } else {
                // After whatever the handler just sent (its sends on this thread are applied at once), so the reply goes first.
                submit(.close(id, close))
            }
        case .binary:
            connection.deliversInput = false
            submit(.close(id, CloseFrame(code: 1003, reason: "binary messages are not supported")))
        case .tooFragmented:
            connection.deliversInput = false
            submit(.close(id, CloseFrame(code: 1008, reason: "message in too many fragments")))
        }
    }

    /// The most bytes of a rejected message read before closing anyway.
    static let maximumDiscardedBytes = 1 << 20

    /// One more piece of a rejected message: close once its last piece has passed, or at once past the limit (the
    /// frame budget bounds the frames).
    private func finishDiscarding(_ connection: ServerConnection, bytes: Int, close: CloseFrame) {
        connection.discardedBytes += bytes
        let startsFrame = connection.inbound.nextPieceStartsFrame
        _ = connection.inbound.receive(EmptyCollection<UInt8>(), isFinal: lws_is_final_fragment(connection.wsi) != 0,
                                       isBinary: false,
                                       remainingInFrame: Int(lws_remaining_packet_payload(connection.wsi)))
        let withinBudget = !startsFrame || connection.frameBudget.take(now: .now)
        if !connection.inbound.isDiscarding || connection.discardedBytes > Self.maximumDiscardedBytes || !withinBudget {
            connection.closeAfterDiscarding = nil
            submit(.close(connection.id, close))
        }
    }

    /// Writes queued messages while the socket takes them, then the pending close, if any.
    func connectionWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard let id = connectionIDs[wsi], let connection = connections[id] else { return 0 }
        if connection.pingDue {
            connection.pingDue = false
            if connection.pendingClose == nil && !connection.droppedSilent {
                // Not empty: lws 4.1 reports only a pong with a payload (LWS_CALLBACK_RECEIVE_PONG).
                guard writer.write("hb", to: wsi, as: LWS_WRITE_PING) else { return -1 }
                if lws_send_pipe_choked(wsi) != 0 {
                    lws_callback_on_writable(wsi)
                    return 0
                }
            }
        }
        return writer.flush(&connection.outbound, thenClose: connection.pendingClose, on: wsi).callbackResult
    }

    /// A pong or a close frame arrived.
    func heardFrom(_ wsi: OpaquePointer, closing: Bool = false) {
        guard let id = connectionIDs[wsi], let connection = connections[id] else { return }
        connection.lastHeardFrom = .now
        if closing { connection.closedByPeer = true }
    }

    /// The connection is gone: tells the handler, exactly once per opened connection, with the cause.
    func connectionEnded(_ wsi: OpaquePointer) {
        guard let id = connectionIDs.removeValue(forKey: wsi), let connection = connections.removeValue(forKey: id) else {
            return
        }
        passes.activity.closes &+= 1
        let cause: ConnectionCloseCause
        if connection.closedByPeer {
            cause = .closedByClient
        } else if connection.droppedSilent {
            cause = .heartbeatTimeout
        } else if connection.pendingClose != nil || shutdownFrame != nil || !connection.deliversInput {
            cause = .closedByServer
        } else {
            cause = .lost
        }
        dispatch(.closed(id, cause), group: connection.group)
        if shutdownFrame != nil && connections.isEmpty {
            stopRequested = true
        }
    }
}
