internal import CRiftWebSockets

/// RFC 6455 §5.1 with a `Configuration.unmaskedFrameDetector`: a client that sends an unmasked frame is closed with 1002.
///
/// The detector follows a socket from its first byte (watched when lws accepts it, before any read) until lws destroys
/// the connection. A data frame is checked before it reaches the assembler, so nothing a client sent after skipping the
/// mask reaches the handler (nor anything that arrived in the same read before it: the flag is per connection). A
/// control frame (a ping) gives no callback, so the end of every service pass also closes the connections the detector
/// flagged during the pass.
extension ServerEventLoop {
    /// lws accepted a socket (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED); refused when the detector cannot follow it.
    func connectionAccepted(_ wsi: OpaquePointer) -> Int32 {
        guard let detector = configuration.unmaskedFrameDetector else { return 0 }
        let descriptor = lws_get_socket_fd(wsi)
        guard detector.watch(descriptor: descriptor, token: Self.token(of: wsi), tls: configuration.tls != nil) else {
            return -1
        }
        return 0
    }

    /// lws destroyed the connection on `descriptor` (already closed; see `acceptedSocketDestroyed`). A socket the
    /// detector never watched is ignored by it (the token does not match).
    func stopWatching(_ descriptor: Int32, of wsi: OpaquePointer) {
        configuration.unmaskedFrameDetector?.forget(descriptor: descriptor, token: Self.token(of: wsi))
    }

    /// Whether the connection's client sent an unmasked frame (in this read or before); if so it is being closed.
    func refusedUnmaskedFrames(_ connection: ServerConnection) -> Bool {
        guard let detector = configuration.unmaskedFrameDetector,
              detector.sawUnmaskedFrame(descriptor: lws_get_socket_fd(connection.wsi)) else { return false }
        refuseUnmaskedFrames(connection)
        return true
    }

    /// Closes every connection flagged during the pass that has not been closed yet (a ping gives no callback).
    func closeUnmaskedSenders() {
        guard let detector = configuration.unmaskedFrameDetector else { return }
        while let token = detector.nextOffender() {
            guard let wsi = OpaquePointer(bitPattern: token), let id = connectionIDs[wsi],
                  let connection = connections[id] else { continue }
            refuseUnmaskedFrames(connection)
        }
    }

    private func refuseUnmaskedFrames(_ connection: ServerConnection) {
        guard connection.pendingClose == nil else { return }
        connection.closeAfterDiscarding = nil
        connection.deliversInput = false
        submit(.close(connection.id, CloseFrame(code: 1002, reason: "unmasked frame")))
    }

    private static func token(of wsi: OpaquePointer) -> UInt { UInt(bitPattern: Int(bitPattern: wsi)) }
}
