internal import CRiftWebSockets

/// What a `Configuration.frameStreamWatcher` reports: a client that sends an unmasked frame is closed with 1002 (RFC
/// 6455 §5.1), and the control frames a client sends are charged to its frame budget (past it: closed with 1008).
///
/// The watcher follows a socket from its first byte (watched when lws accepts it, before any read) until lws destroys
/// the connection. A data frame is checked for its mask before it reaches the assembler, so nothing a client sent
/// after skipping the mask reaches the handler (nor anything that arrived in the same read before it: the flag is per
/// connection). A control frame (a ping) gives no callback, so the end of every service pass takes the watcher's
/// reports: the connections flagged during the pass, and those that sent another step of control frames.
extension ServerEventLoop {
    /// lws accepted a socket (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED); refused when the watcher cannot follow it.
    func connectionAccepted(_ wsi: OpaquePointer) -> Int32 {
        guard let watcher = configuration.frameStreamWatcher else { return 0 }
        let descriptor = lws_get_socket_fd(wsi)
        guard watcher.watch(descriptor: descriptor, token: Self.token(of: wsi), tls: configuration.tls != nil) else {
            return -1
        }
        return 0
    }

    /// lws destroyed the connection on `descriptor` (already closed; see `acceptedSocketDestroyed`). A socket the
    /// watcher never watched is ignored by it (the token does not match).
    func stopWatching(_ descriptor: Int32, of wsi: OpaquePointer) {
        configuration.frameStreamWatcher?.forget(descriptor: descriptor, token: Self.token(of: wsi))
    }

    /// Whether the connection's client sent an unmasked frame (in this read or before); if so it is being closed.
    func refusedUnmaskedFrames(_ connection: ServerConnection) -> Bool {
        guard let watcher = configuration.frameStreamWatcher,
              watcher.sawUnmaskedFrame(descriptor: lws_get_socket_fd(connection.wsi)) else { return false }
        refuseUnmaskedFrames(connection)
        return true
    }

    /// Acts on the watcher's reports of the pass: closes the connections flagged for an unmasked frame, and charges
    /// control frames to their senders' frame budgets.
    func applyFrameStreamReports() {
        guard let watcher = configuration.frameStreamWatcher else { return }
        let now = ContinuousClock.now
        while let report = watcher.nextReport() {
            guard let wsi = OpaquePointer(bitPattern: report.token), let id = connectionIDs[wsi],
                  let connection = connections[id] else { continue }
            if report.unmasked {
                refuseUnmaskedFrames(connection)
            } else if connection.pendingClose == nil, !connection.frameBudget.take(report.controlFrames, now: now) {
                closeOverBudget(connection)
            }
        }
    }

    /// The client sent more frames than its budget: it is closed with 1008, and nothing more is read from it. lws
    /// would otherwise go on reading and parsing its frames, and answering its pings, until the close handshake timed
    /// out (5 s); unread, they stay in the kernel's buffers and TCP stops the sender.
    func closeOverBudget(_ connection: ServerConnection) {
        close(connection, refusingInput: CloseFrame(code: 1008, reason: "too many frames"), stopReading: true)
    }

    private func refuseUnmaskedFrames(_ connection: ServerConnection) {
        guard connection.pendingClose == nil else { return }
        close(connection, refusingInput: CloseFrame(code: 1002, reason: "unmasked frame"), stopReading: false)
    }

    /// Closes with `frame`, delivering nothing more the client sent; `stopReading` also stops lws reading its socket.
    private func close(_ connection: ServerConnection, refusingInput frame: CloseFrame, stopReading: Bool) {
        connection.closeAfterDiscarding = nil
        connection.deliversInput = false
        if stopReading { _ = lws_rx_flow_control(connection.wsi, 0) }
        submit(.close(connection.id, frame))
    }

    private static func token(of wsi: OpaquePointer) -> UInt { UInt(bitPattern: Int(bitPattern: wsi)) }
}
