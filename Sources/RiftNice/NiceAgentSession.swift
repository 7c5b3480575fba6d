internal import CRiftNice
import RiftSupport
import Synchronization

/// The libnice agent behind one `ICESession`: owns the `NiceAgent*` and is the context its C callbacks get.
///
/// Ownership: `open()` creates the agent on the loop thread and retains `self` once for C (signal handlers,
/// receive callback, close callback); `closeOnLoop()` disconnects every callback and starts
/// `nice_agent_close_async`, whose completion unrefs the agent and releases that one retain. GLib frees the
/// agent on the loop thread, and a weak-reference notification tells the loop.
///
/// Threads: members marked "loop thread only" are used nowhere else. `sendTarget`, `activeStreamID` and
/// `observed` are what other threads may read, each behind its own lock or atomic.
final class NiceAgentSession: @unchecked Sendable {
    /// What `send` needs, readable from any thread. `NiceAgent*` is not `Sendable`; libnice locks internally.
    struct SendTarget: @unchecked Sendable {
        let agent: OpaquePointer
        let streamID: UInt32
    }

    /// State other threads read without hopping onto the loop.
    struct Observed: Sendable {
        var credentials: (ufrag: String, pwd: String) = ("", "")
        var selectedPair: (local: ICECandidateInfo, remote: ICECandidateInfo)?
    }

    let loop: MainContextThread
    let configuration: ICESessionConfiguration
    let servers: ServerAddressResolver.Resolved
    let continuation: AsyncStream<ICEEvent>.Continuation

    /// The agent and stream `send` uses; nil before open and after close. Signal handlers never take this
    /// lock, so holding it across `nice_agent_send` cannot deadlock with them.
    let sendTarget = Locked<SendTarget?>(nil)
    /// The stream whose signals are reported; signals still queued for a stream removed by a restart are not.
    let activeStreamID = Atomic<UInt32>(0)
    let observed = Locked(Observed())

    // Loop thread only.
    var agent: OpaquePointer?
    var streamID: UInt32 = 0
    var remoteCandidates = RemoteCandidateQueue()
    var receiveHandler: (@Sendable (UnsafeRawBufferPointer) -> Void)?
    /// Called once after the loop iteration in which `receiveHandler` ran (see `ICESession.setReceiveHandler`).
    var receiveFlush: (@Sendable () -> Void)?
    /// Whether this session is queued on the loop for `receiveFlush`.
    var flushQueued = false
    /// What the peer sent before `receiveHandler` was first set, for it (`EarlyDatagrams`).
    var earlyDatagrams = EarlyDatagrams()
    private(set) var isClosed = false

    init(loop: MainContextThread, configuration: ICESessionConfiguration, servers: ServerAddressResolver.Resolved,
         continuation: AsyncStream<ICEEvent>.Continuation) {
        self.loop = loop
        self.configuration = configuration
        self.servers = servers
        self.continuation = continuation
    }

    /// The pointer C callbacks receive; valid while C holds its retain (until the close completes).
    var callbackContext: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Creates the agent, sets its properties, connects the signals and adds the stream (loop thread). On
    /// failure everything acquired so far is released and the events stream is finished.
    func open() throws(ICEError) {
        var options = NICE_AGENT_OPTION_ICE_TRICKLE.rawValue
        if configuration.consentFreshness { options |= NICE_AGENT_OPTION_CONSENT_FRESHNESS.rawValue }
        guard let agent = nice_agent_new_full(loop.context, NICE_COMPATIBILITY_RFC5245, NiceAgentOption(rawValue: options))
        else {
            continuation.finish()
            throw ICEError(.agentSetupFailed, "nice_agent_new_full failed")
        }
        self.agent = agent
        _ = Unmanaged.passRetained(self)  // C's one retain; balanced in the close_async callback
        loop.agentOpened(self)
        g_object_weak_ref(UnsafeMutablePointer<GObject>(agent), { data, _ in
            Unmanaged<MainContextThread>.fromOpaque(data!).takeRetainedValue().agentFinalized()
        }, Unmanaged.passRetained(loop).toOpaque())
        do {
            try configureAgent(agent)
            connectSignals(agent)
            try openStream()
        } catch {
            closeOnLoop()
            throw error
        }
    }

    /// Agent-wide properties: role, UDP only, no UPnP, keepalives that detect a dead peer, check pacing, servers,
    /// and the local addresses to gather on.
    private func configureAgent(_ agent: OpaquePointer) throws(ICEError) {
        let object = UnsafeMutableRawPointer(agent)
        CRiftNice_set_bool(object, "controlling-mode", configuration.controlling ? 1 : 0)
        CRiftNice_set_bool(object, "ice-tcp", 0)
        CRiftNice_set_bool(object, "upnp", 0)
        CRiftNice_set_bool(object, "keepalive-conncheck", 1)
        CRiftNice_set_bool(object, "force-relay", configuration.servers.forceRelay ? 1 : 0)
        if let pacing = configuration.checkPacingMilliseconds {
            CRiftNice_set_uint(object, "stun-pacing-timer", pacing)
        }
        if let stun = servers.stun {
            CRiftNice_set_string(object, "stun-server", stun.address)
            CRiftNice_set_uint(object, "stun-server-port", UInt32(stun.port))
        }
        for text in configuration.localAddresses {
            var address = NiceAddress()
            nice_address_init(&address)
            guard nice_address_set_from_string(&address, text) != 0 else {
                throw ICEError(.invalidConfiguration, "local address \(text) is not a numeric IP address")
            }
            guard nice_agent_add_local_address(agent, &address) != 0 else {
                throw ICEError(.agentSetupFailed, "nice_agent_add_local_address refused \(text)")
            }
        }
    }

    /// libnice's `Ta` as the agent holds it, in milliseconds (loop thread; 0 once closed), so a test can see the
    /// configured pacing reach libnice.
    var checkPacingInEffect: UInt32 {
        guard let agent, !isClosed else { return 0 }
        return CRiftNice_get_uint(UnsafeMutableRawPointer(agent), "stun-pacing-timer")
    }

    /// Stops everything (loop thread; idempotent): no more sends, received data or events; the agent is
    /// closed asynchronously so TURN allocations are released, then unreferenced.
    func closeOnLoop() {
        guard !isClosed else { return }
        isClosed = true
        sendTarget.withLock { $0 = nil }
        activeStreamID.store(0, ordering: .releasing)
        observed.withLock { $0.selectedPair = nil }
        if flushQueued { runReceiveFlush() }
        receiveHandler = nil
        receiveFlush = nil
        earlyDatagrams.discard()
        loop.agentClosing(self)
        continuation.finish()
        guard let agent else { return }
        // The receive callback stays attached (it delivers nothing now that the handler is gone): libnice
        // reads its sockets only while one is, and it must read the TURN server's deallocation answers.
        _ = g_signal_handlers_disconnect_matched(
            UnsafeMutableRawPointer(agent), G_SIGNAL_MATCH_DATA, 0, 0, nil, nil, callbackContext)
        // Removes the stream, deallocates TURN allocations, then calls back on this (thread-default) context.
        nice_agent_close_async(agent, { _, _, data in
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data!).takeRetainedValue()
            session.closeCompleted()
        }, callbackContext)
    }

    /// Sets the receive handler and its flush (loop thread), and hands the handler what arrived before there was one.
    func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                           flush: (@Sendable () -> Void)?) {
        guard !isClosed else { return }
        receiveHandler = handler
        receiveFlush = flush
        let early = earlyDatagrams.take()
        guard !early.isEmpty else { return }
        for datagram in early { datagram.withUnsafeBytes { handler($0) } }
        queueReceiveFlush()
    }

    /// Queues this session on the loop for `receiveFlush` after the handler ran (loop thread), once per iteration.
    func queueReceiveFlush() {
        guard !flushQueued, receiveFlush != nil else { return }
        flushQueued = true
        loop.queueReceiveFlush(self)
    }

    /// Runs the flush the loop queued for this session (loop thread).
    func runReceiveFlush() {
        flushQueued = false
        receiveFlush?()
    }

    /// The end of `closeOnLoop`: drops this object's reference to the agent and C's retain of `self`.
    private func closeCompleted() {
        if let agent { g_object_unref(UnsafeMutableRawPointer(agent)) }
        agent = nil
    }

    /// Sends one datagram on the selected pair, from any thread (see `ICESession.send`).
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty, bytes.count <= 65_535 else { return false }
        return sendTarget.withLock { target in
            guard let target else { return false }
            let sent = nice_agent_send(
                target.agent, target.streamID, 1, UInt32(bytes.count), base.assumingMemoryBound(to: gchar.self))
            return sent == Int32(bytes.count)
        }
    }

    /// Sends up to `datagrams.count` datagrams on the selected pair in one libnice call, from any thread (see
    /// `ICESession.send(batch:)`). Returns how many were accepted; the rest were dropped. The message and vector
    /// arrays libnice needs live on the stack, so a batch costs no allocation.
    func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        let count = datagrams.count
        guard count > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: GOutputVector.self, capacity: count) { vectors -> Int in
            withUnsafeTemporaryAllocation(of: NiceOutputMessage.self, capacity: count) { messages -> Int in
                for index in 0..<count {
                    let datagram = datagrams[index]
                    vectors[index] = GOutputVector(buffer: datagram.baseAddress, size: gsize(datagram.count))
                    messages[index] = NiceOutputMessage(buffers: vectors.baseAddress! + index, n_buffers: 1)
                }
                return sendTarget.withLock { target -> Int in
                    guard let target else { return 0 }
                    let sent = nice_agent_send_messages_nonblocking(
                        target.agent, target.streamID, 1, messages.baseAddress, UInt32(count), nil, nil)
                    return max(0, Int(sent))
                }
            }
        }
    }
}
