import RiftSupport

/// A WebSocket server (plain `ws://` or `wss://`) that also answers plain HTTP `GET`s on the
/// same port, built on libwebsockets.
///
/// One dedicated service thread runs the lws event loop and calls the handler; `send`, `close`
/// and `shutdown` may be called from any thread. Each connection costs a few kilobytes while
/// idle (lws' connection state plus `receiveBufferBytes`), so one server holds tens of
/// thousands of connections; `start()` raises the process' open-file limit accordingly.
public final class WebSocketServer: @unchecked Sendable {
    private let loop: ServerEventLoop
    private let lifecycle = Locked<Lifecycle>(.idle)

    private enum Lifecycle {
        case idle
        case running(ServiceThread, port: UInt16)
        case stopping(port: UInt16)
        case stopped
    }

    /// Creates a stopped server; `handler` is kept until the server stops.
    /// Throws when the configuration cannot work (the error names the field).
    public init(configuration: Configuration, handler: any WebSocketServerHandler) throws(WebSocketError) {
        try configuration.validate()
        loop = ServerEventLoop(configuration: configuration, handler: handler)
    }

    /// Binds the listening socket and starts the service thread.
    ///
    /// Throws with a clear reason when the port is in use, the address does not exist, the
    /// certificate or key cannot be read or do not match, or the server was already started.
    public func start() throws(WebSocketError) {
        try lifecycle.withLock { state throws(WebSocketError) in
            guard case .idle = state else { throw WebSocketError("the WebSocket server was already started") }
            try Self.checkReadable(loop.configuration.tls)
            LibraryLog.install()
            let fileDescriptorLimit = FileDescriptorLimit.raiseSoftLimitToHardLimit()
            loop.acceptGuard.maximumSockets = AcceptGuard.maximumSockets(fileDescriptorLimit: fileDescriptorLimit)
            let context = try LWSContext.server(for: loop, fileDescriptorLimit: fileDescriptorLimit)
            let port = context.listeningPort
            let loop = self.loop
            loop.attach(to: context)
            let thread: ServiceThread
            do throws(WebSocketError) {
                thread = try ServiceThread.spawnService(name: "riftgate-ws-srv") { loop.run(context) }
            } catch {
                loop.detach()  // before `context` goes out of scope and is destroyed
                throw error
            }
            state = .running(thread, port: port)
        }
    }

    /// The TCP port the server listens on; 0 before `start()`.
    public var boundPort: UInt16 {
        lifecycle.withLock { state in
            switch state {
            case .running(_, let port), .stopping(let port): port
            case .idle, .stopped: 0
            }
        }
    }

    /// Queues `text` for the connection. Thread-safe and non-blocking; ignored for an unknown
    /// or closed connection. If the connection's queue is full it is closed with 1008 instead.
    public func send(_ text: String, to id: ConnectionID) {
        loop.submit(.send(id, text))
    }

    /// Closes the connection with `code` and `reason` after the messages already queued for it
    /// are written. Thread-safe; ignored for an unknown or closed connection. Codes that may not
    /// be sent (e.g. 1005, 1006) become 1000; the reason is cut to 123 bytes.
    public func close(_ id: ConnectionID, code: UInt16, reason: String) {
        loop.submit(.close(id, CloseFrame(code: code, reason: reason)))
    }

    /// Runs `work` on the service thread, in order with the other commands (at once when called on that thread).
    /// Thread-safe and non-blocking; `work` is dropped when the server does not run. This is how events from other
    /// threads (the hub's cluster bus) reach the handler's single-threaded state.
    public func perform(_ work: @escaping @Sendable () -> Void) {
        loop.submit(.perform(work))
    }

    /// How the service loop's passes and waits were timed so far, and what ran in the slow passes; nil unless
    /// `Configuration.recordsServicePasses`. Thread-safe.
    public var servicePassStatistics: ServicePassStatistics? {
        loop.configuration.recordsServicePasses ? loop.passes.statistics : nil
    }

    /// Closes every connection with `code` (after flushing their queues), waits up to `timeout`
    /// for them to finish, drops the rest, stops the thread and waits for it.
    ///
    /// Idempotent: later calls return at once. Called from a handler method (on the service
    /// thread), it starts the shutdown and returns without waiting.
    public func shutdown(code: UInt16 = 1001, reason: String = "server shutting down", timeout: Duration = .seconds(2)) {
        let thread: ServiceThread? = lifecycle.withLock { state in
            switch state {
            case .idle:
                state = .stopped
                return nil
            case .running(let thread, let port):
                state = .stopping(port: port)
                return thread
            case .stopping, .stopped:
                return nil
            }
        }
        guard let thread else { return }
        loop.submit(.shutdown(CloseFrame(code: code, reason: reason), timeout: timeout))
        if thread.isCurrent {
            thread.detach()
        } else {
            thread.join()
        }
        lifecycle.withLock { $0 = .stopped }
    }

    deinit {
        shutdown(timeout: .seconds(1))
    }

    /// Fails early, with the file's name, when a TLS file cannot be opened.
    private static func checkReadable(_ tls: TLSFiles?) throws(WebSocketError) {
        guard let tls else { return }
        try ReadableFile.check(tls.certificatePath, role: "TLS certificate")
        try ReadableFile.check(tls.privateKeyPath, role: "TLS private key")
    }
}
