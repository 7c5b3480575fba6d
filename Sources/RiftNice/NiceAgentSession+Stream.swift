internal import CRiftNice
#if canImport(Glibc)
import Glibc
#endif

extension NiceAgentSession {
    /// Adds the session's stream (one UDP component) with its port range and TURN servers, attaches the
    /// receive callback and reads the new local credentials (loop thread). Used at open and on restart.
    func openStream() throws(ICEError) {
        guard let agent else { throw ICEError(.sessionClosed, "the session is closed") }
        let id = nice_agent_add_stream(agent, 1)
        guard id != 0 else { throw ICEError(.agentSetupFailed, "nice_agent_add_stream failed") }
        streamID = id
        if let range = configuration.portRange {
            nice_agent_set_port_range(agent, id, 1, UInt32(range.lowerBound), UInt32(range.upperBound))
        }
        for server in servers.turn {
            let type = switch server.transport {
            case .udp: NICE_RELAY_TYPE_TURN_UDP
            case .tcp: NICE_RELAY_TYPE_TURN_TCP
            }
            let accepted = nice_agent_set_relay_info(
                agent, id, 1, server.address, UInt32(server.port), server.username, server.password, type)
            guard accepted != 0 else {
                throw ICEError(.agentSetupFailed,
                               "libnice rejected TURN server \(server.address):\(server.port) over \(server.transport.rawValue)")
            }
        }
        nice_agent_attach_recv(agent, id, 1, loop.context, { _, stream, _, length, buffer, data in
            guard let buffer, let data else { return }
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data).takeUnretainedValue()
            guard stream == session.streamID else { return }  // a stream a restart removed
            let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
            guard let handler = session.receiveHandler else {
                if !session.isClosed { session.earlyDatagrams.hold(bytes) }
                return
            }
            handler(bytes)
            session.queueReceiveFlush()
        }, callbackContext)
        remoteCandidates.reset()
        activeStreamID.store(id, ordering: .releasing)
        sendTarget.withLock { $0 = SendTarget(agent: agent, streamID: id) }
        let credentials = try readLocalCredentials(agent, stream: id)
        observed.withLock { $0.credentials = credentials }
    }

    /// Starts gathering on the current stream (loop thread); candidates are reported as they are found.
    func startGathering() throws(ICEError) {
        guard !isClosed, let agent else { throw ICEError(.sessionClosed, "the session is closed") }
        guard nice_agent_gather_candidates(agent, streamID) != 0 else {
            throw ICEError(.gatheringFailed, "nice_agent_gather_candidates failed: no usable local address or port")
        }
        enlargeSocketBuffers(agent)
    }

    /// ICE restart by replacing the stream (loop thread): new sockets, new credentials, fresh gathering. The
    /// old stream's TURN allocations are released by libnice.
    ///
    /// `nice_agent_restart_stream` would keep the old sockets and candidates; after a network change those
    /// are bound to addresses that may be gone, and new interfaces would never be used. A new stream costs a
    /// short gap in data until the new pair is selected, which a restart implies anyway.
    func restart() throws(ICEError) {
        guard !isClosed, let agent else { throw ICEError(.sessionClosed, "the session is closed") }
        activeStreamID.store(0, ordering: .releasing)
        sendTarget.withLock { $0 = nil }
        observed.withLock { $0.selectedPair = nil }
        nice_agent_remove_stream(agent, streamID)
        streamID = 0
        earlyDatagrams.discard()
        try openStream()
        try startGathering()
    }

    private func readLocalCredentials(_ agent: OpaquePointer, stream: UInt32) throws(ICEError) -> (String, String) {
        var ufrag: UnsafeMutablePointer<gchar>?
        var pwd: UnsafeMutablePointer<gchar>?
        defer {
            g_free(ufrag)
            g_free(pwd)
        }
        guard nice_agent_get_local_credentials(agent, stream, &ufrag, &pwd) != 0, let ufrag, let pwd else {
            throw ICEError(.agentSetupFailed, "nice_agent_get_local_credentials failed")
        }
        return (String(cString: ufrag), String(cString: pwd))
    }

    /// Raises the kernel buffers of the stream's sockets (created by gathering) to the configured size. As
    /// root the `…FORCE` options pass the `net.core.[rw]mem_max` caps; otherwise the kernel clamps to them.
    /// Best effort: a refused size leaves the default, which only costs burst tolerance.
    private func enlargeSocketBuffers(_ agent: OpaquePointer) {
        let size = Int32(clamping: configuration.socketBufferBytes)
        guard size > 0, let sockets = nice_agent_get_sockets(agent, streamID, 1) else { return }
        defer { g_ptr_array_unref(sockets) }
        for index in 0..<Int(sockets.pointee.len) {
            guard let raw = sockets.pointee.pdata[index] else { continue }
            let socket = raw.assumingMemoryBound(to: GSocket.self)
            Self.setBufferOption(socket, forced: SO_RCVBUFFORCE, plain: SO_RCVBUF, size: size)
            Self.setBufferOption(socket, forced: SO_SNDBUFFORCE, plain: SO_SNDBUF, size: size)
        }
    }

    private static func setBufferOption(_ socket: UnsafeMutablePointer<GSocket>, forced: Int32, plain: Int32, size: Int32) {
        var error: UnsafeMutablePointer<GError>?
        if g_socket_set_option(socket, SOL_SOCKET, forced, size, &error) != 0 { return }
        g_clear_error(&error)
        _ = g_socket_set_option(socket, SOL_SOCKET, plain, size, &error)
        g_clear_error(&error)
    }
}
