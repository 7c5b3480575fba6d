import RiftSupport

/// A WebSocket client connection (`ws://` or `wss://`) built on libwebsockets.
///
/// Create it, start consuming `events`, call `connect()`. Everything that happens arrives on
/// `events` in order and the stream ends after `.closed`, which also reports every failure with
/// a reason (refused, TLS verification, HTTP status, timeout). The client owns one service
/// thread from `connect()` until `.closed`; `send` and `close` may be called from any thread.
/// A client connects once: to reconnect, create a new one.
public final class WebSocketClient: @unchecked Sendable {
    /// The connection's events, for one consumer. Buffered without limit, so a slow consumer
    /// holds messages in memory rather than losing them.
    public let events: AsyncStream<WebSocketClientEvent>
    private let loop: ClientEventLoop
    private let lifecycle = Locked(Lifecycle.idle)

    private enum Lifecycle { case idle, started, closedBeforeConnecting }

    /// Checks the configuration; throws for a malformed URL or an invalid field.
    public init(configuration: WebSocketClientConfiguration) throws(WebSocketError) {
        let url = try configuration.validated()
        let (events, continuation) = AsyncStream<WebSocketClientEvent>.makeStream()
        self.events = events
        loop = ClientEventLoop(configuration: configuration, url: url, continuation: continuation)
    }

    /// Starts the service thread and the connection attempt. Only the first call does anything.
    /// Failures arrive as `.closed(code: nil, reason:)`.
    public func connect() {
        let shouldStart = lifecycle.withLock { state in
            guard case .idle = state else { return false }
            state = .started
            return true
        }
        guard shouldStart else { return }
        LibraryLog.install()
        let context: LWSContext
        do {
            context = try LWSContext.client(for: loop)
        } catch {
            loop.finishWithoutConnecting(reason: error.reason)
            return
        }
        loop.attach(to: context)
        let loop = self.loop
        do {
            try ServiceThread.spawnService(name: "riftgate-ws-cli") { loop.run(context) }.detach()
        } catch {
            loop.finishWithoutConnecting(reason: error.reason)  // before `context` is destroyed
        }
    }

    /// The connection's local and remote addresses, once `.connected` arrived (nil before, or if they could not be
    /// read). A client that watches the network compares `localAddress` with the addresses that remain.
    public var endpoints: SocketEndpoints? { loop.endpoints.withLock { $0 } }

    /// Queues `text` for the server; written once connected. Thread-safe and non-blocking;
    /// ignored after `close()` or the end of the connection. If the queue overflows its limits
    /// the client closes with 1008.
    public func send(_ text: String) {
        loop.submit(.send(text))
    }

    /// Changes the heartbeat of this connection (the configuration's `pingInterval` and `pongTimeout`), counting from
    /// now, as if the server had just answered a ping: call it when the server was just heard from, e.g. to follow
    /// the interval it announced. Thread-safe; throws for durations the configuration would refuse.
    public func setHeartbeat(pingInterval: Duration, pongTimeout: Duration) throws(WebSocketError) {
        let heartbeat: ClientHeartbeat
        do { heartbeat = try ClientHeartbeat(pingInterval: pingInterval, pongTimeout: pongTimeout) } catch {
            throw WebSocketError("invalid heartbeat: \(error.reason)")
        }
        loop.submit(.heartbeat(heartbeat))
    }

    /// Closes the connection with `code` and `reason` after the queued messages are written,
    /// or abandons a connection attempt still in progress. Thread-safe and idempotent; the
    /// stream ends with `.closed` and the thread exits.
    public func close(code: UInt16 = 1000, reason: String = "") {
        let started = lifecycle.withLock { state in
            switch state {
            case .idle:
                state = .closedBeforeConnecting
                return false
            case .started, .closedBeforeConnecting:
                return true
            }
        }
        if started {
            loop.submit(.close(CloseFrame(code: code, reason: reason)))
        } else {
            loop.finishWithoutConnecting(reason: "closed by the client before connecting")
        }
    }

    deinit {
        close(code: 1001, reason: "client going away")
    }
}
