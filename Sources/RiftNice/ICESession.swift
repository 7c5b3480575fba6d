/// One ICE connection to one peer: a libnice agent with one stream of one UDP component.
///
/// Every method may be called from any thread. Those that change the agent run on the `ICEEventLoop`'s
/// thread and wait for it (inline when already there); `send` does not hop (libnice locks internally) and
/// is the hot path, as is the receive handler. Events arrive in order on `events`.
///
/// Typical use: create, `startGathering()`, send each `.localCandidate` and the credentials to the peer over
/// signaling, feed the peer's into `setRemoteCredentials` and `addRemoteCandidate` (in any order), wait for
/// `.stateChanged(.ready)`, then `send` and receive. On `.failed`, `restart()` and exchange again; `close()`
/// when done (dropping the last reference closes too).
public final class ICESession: Sendable {
    /// Events of this session, in the order libnice produced them. One consumer; finishes at `close()`.
    public let events: AsyncStream<ICEEvent>
    private let loop: ICEEventLoop
    private let session: NiceAgentSession

    /// Creates the agent and its stream on `loop`'s thread. STUN and TURN host names are resolved first, on
    /// the calling thread (pass numeric addresses to avoid blocking). Throws `invalidConfiguration`,
    /// `serverResolutionFailed`, `agentSetupFailed` or `loopStopped`.
    public init(loop: ICEEventLoop, configuration: ICESessionConfiguration) throws(ICEError) {
        try configuration.validate()
        for address in configuration.localAddresses where !ServerAddressResolver.isNumeric(address) {
            throw ICEError(.invalidConfiguration, "local address \(address) is not a numeric IP address")
        }
        let servers = try ServerAddressResolver.resolve(configuration.servers)
        let (events, continuation) = AsyncStream.makeStream(of: ICEEvent.self, bufferingPolicy: .unbounded)
        let session = NiceAgentSession(
            loop: loop.core, configuration: configuration, servers: servers, continuation: continuation)
        do {
            try loop.core.performAndWait { () throws(ICEError) in try session.open() }
        } catch {
            continuation.finish()
            throw error
        }
        self.events = events
        self.loop = loop
        self.session = session
    }

    deinit { close() }

    /// This side's ICE username fragment and password for the current generation (they change on
    /// `restart()`). Send them to the peer; the password is a secret of the session, never log it.
    public var localCredentials: (ufrag: String, pwd: String) {
        session.observed.withLock { $0.credentials }
    }

    /// Starts gathering local candidates; each is reported as `.localCandidate`, then `.gatheringDone`.
    /// Throws `gatheringFailed` when no host candidate could be created, or `sessionClosed`/`loopStopped`.
    public func startGathering() throws(ICEError) {
        try loop.core.performAndWait { [session] () throws(ICEError) in try session.startGathering() }
    }

    /// Sets the peer's credentials and applies the candidates that arrived before them. Throws
    /// `invalidCredentials` for malformed values (RFC 8445 lengths and characters).
    public func setRemoteCredentials(ufrag: String, pwd: String) throws(ICEError) {
        try ICECredentials.validate(ufrag: ufrag, pwd: pwd)
        try loop.core.performAndWait { [session] () throws(ICEError) in
            try session.setRemoteCredentials(ufrag: ufrag, pwd: pwd)
        }
    }

    /// Adds one of the peer's candidates (`candidate:...`, with or without `a=`). Candidates that arrive
    /// before the remote credentials are held (up to 64) and applied when they arrive. Throws
    /// `invalidCandidate` for lines libnice cannot parse or that are not UDP component-1 candidates, and
    /// `tooManyPendingCandidates` when the hold is full.
    public func addRemoteCandidate(_ sdp: String) throws(ICEError) {
        guard let line = CandidateAttribute.normalized(sdp) else {
            throw ICEError(.invalidCandidate, "not a candidate attribute of at most \(CandidateAttribute.maxLength) bytes")
        }
        try loop.core.performAndWait { [session] () throws(ICEError) in try session.addRemoteCandidate(line) }
    }

    /// Tells libnice the peer has sent all its candidates, so checks can conclude (and fail) without waiting
    /// for more. Held like candidates until the remote credentials arrive. Does nothing once closed.
    public func remoteGatheringDone() {
        _ = try? loop.core.performAndWait { [session] () throws(ICEError) in session.remoteGatheringDone() }
    }

    /// ICE restart, reusing this session: a new stream with new sockets and new local credentials, and a new
    /// gathering. Remote credentials and candidates must be exchanged again (candidates of the new
    /// generation are held until the new remote credentials arrive). Data stops until a new pair is selected.
    public func restart() throws(ICEError) {
        try loop.core.performAndWait { [session] () throws(ICEError) in try session.restart() }
    }

    /// Sets the function that receives each datagram from the peer, replacing any previous one.
    ///
    /// It runs on the loop thread, once per datagram, with a buffer valid only during the call (copy what
    /// you keep). Keep it short and never block in it: every session of the loop waits for it. It may call
    /// `send` on any session. `close()` releases it, so a handler that captures this session keeps the
    /// session alive until then.
    ///
    /// `flush`, when given, runs on the loop thread once after each loop iteration in which `handler` ran (and once
    /// more at `close()` if one is due): a handler may batch what it receives and hand the batch on in `flush`. A
    /// lone datagram is flushed in the next iteration, which does not wait for the network.
    ///
    /// The first few datagrams the peer sent before there was a handler (`EarlyDatagrams`: its WireGuard's first
    /// handshake initiation, sent as soon as its side selected the pair) are handed to the first handler set, in order.
    public func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                                  flush: (@Sendable () -> Void)? = nil) {
        _ = try? loop.core.performAndWait { [session] () throws(ICEError) in
            session.setReceiveHandler(handler, flush: flush)
        }
    }

    /// Sends one datagram (1 to 65,535 bytes) to the peer on the selected pair. Callable from any thread
    /// concurrently with everything else (libnice serializes internally); never blocks on the network.
    /// Returns false when no pair is selected yet, the session is restarting or closed, or the socket
    /// buffer is full: the datagram is dropped, as UDP would.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        session.send(bytes)
    }

    /// Sends up to `datagrams.count` datagrams (each 1 to 65,535 bytes) in one call, in order, like `send` for each
    /// (`nice_agent_send_messages_nonblocking`: one lock and one pass through libnice for the batch). Returns how
    /// many were accepted; the others were dropped, as UDP would.
    @discardableResult
    public func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        session.send(batch: datagrams)
    }

    /// The pair data currently flows on, or nil before selection, during a restart and after close.
    public var selectedPair: (local: ICECandidateInfo, remote: ICECandidateInfo)? {
        session.observed.withLock { $0.selectedPair }
    }

    /// libnice's `Ta` in effect for this session, in milliseconds (0 once closed): the configured
    /// `checkPacingMilliseconds`, or libnice's default.
    var checkPacingInEffect: UInt32 {
        (try? loop.core.performAndWait { [session] () throws(ICEError) in session.checkPacingInEffect }) ?? 0
    }

    /// The peer's datagrams held for the first receive handler, and those dropped for lack of room (`EarlyDatagrams`).
    var earlyDatagrams: (held: Int, dropped: Int) {
        (try? loop.core.performAndWait { [session] () throws(ICEError) in
            (session.earlyDatagrams.count, session.earlyDatagrams.dropped)
        }) ?? (0, 0)
    }

    /// Closes the session; idempotent. When it returns no more data is delivered or sent and `events` has
    /// finished. The agent is then closed on the loop thread (releasing TURN allocations) and freed.
    public func close() {
        _ = try? loop.core.performAndWait { [session] () throws(ICEError) in session.closeOnLoop() }
    }
}
