internal import CRiftWebSockets
import RiftSupport

/// Work other threads hand to a client's service thread.
enum ClientCommand {
    case send(String)
    case close(CloseFrame)
    case heartbeat(ClientHeartbeat)
}

/// The state a `WebSocketClient`'s service thread works on, and the inbox other threads feed it.
///
/// Everything except `inbox` belongs to the service thread (lws callbacks and `run`), except
/// before the thread exists, when `finishWithoutConnecting` may end the client instead.
final class ClientEventLoop: @unchecked Sendable {
    let configuration: WebSocketClientConfiguration
    let url: WebSocketURL
    private let continuation: AsyncStream<WebSocketClientEvent>.Continuation

    /// What other threads hand to the service thread; commands given before `connect()` wait for the thread.
    let inbox = ServiceInbox<ClientCommand>(acceptsCommandsBeforeAttach: true)
    /// Both ends of the connection, read once the handshake completed (any thread may read them).
    let endpoints = Locked<SocketEndpoints?>(nil)

    // MARK: Service-thread state

    enum Phase { case connecting, open, finished }
    private(set) var phase = Phase.connecting
    /// The connection's `struct lws *`, once lws created it.
    var wsi: OpaquePointer?
    var outbound: OutboundQueue
    var inbound: MessageAssembler
    /// Set when the connection should close once `outbound` is flushed.
    var pendingClose: CloseFrame?
    /// The close frame the client sent, reported if the server does not send its own.
    var sentClose: CloseFrame?
    /// The close frame the server sent first.
    var receivedClose: CloseFrame?
    let writer = PayloadWriter()
    var stopRequested = false
    private(set) var contextPointer: OpaquePointer?
    /// Strings and structs the connect request points into while the connection lives.
    let connectionMemory = CAllocations()
    /// The heartbeat policy lws reads for the connection (in `connectionMemory`), once the connect request exists.
    var heartbeatPolicy: UnsafeMutablePointer<lws_retry_bo_t>?
    /// The heartbeat the connection uses: the configuration's until `WebSocketClient.setHeartbeat` changes it.
    var heartbeat: ClientHeartbeat
    private(set) lazy var connectTimer = LWSTimer(owner: self, callback: clientConnectTimedOut)

    init(configuration: WebSocketClientConfiguration, url: WebSocketURL,
         continuation: AsyncStream<WebSocketClientEvent>.Continuation) {
        self.configuration = configuration
        self.url = url
        self.continuation = continuation
        outbound = OutboundQueue(
            maximumMessages: configuration.maximumQueuedMessages, maximumBytes: configuration.maximumQueuedBytes)
        inbound = MessageAssembler(maximumBytes: configuration.maximumMessageBytes)
        // `WebSocketClient.init` validated the configuration first.
        heartbeat = try! ClientHeartbeat(pingInterval: configuration.pingInterval,
                                         pongTimeout: configuration.pongTimeout)
    }

    /// "host:port" for messages, with the address connected to when it is given (`connectAddress`).
    var target: String {
        "\(url.host.contains(":") ? "[\(url.host)]" : url.host):\(url.port)"
            + (configuration.connectAddress.map { " (address \($0))" } ?? "")
    }

    // MARK: Any thread

    /// Makes `context` the target of wake-ups; called before the service thread starts.
    func attach(to context: LWSContext) {
        inbox.attach(to: context)
    }

    /// Queues `command` for the service thread, waking it if it runs. Commands given before
    /// `connect()` wait for the thread; commands after the client finished are dropped.
    func submit(_ command: ClientCommand) {
        inbox.submit(command)
    }

    /// Stops wake-ups and commands for good, before the context is destroyed.
    func detach() {
        inbox.detach()
    }

    /// Ends a client whose thread never started (closed before `connect()`, or no context or
    /// thread could be created).
    func finishWithoutConnecting(reason: String) {
        detach()
        finish(code: nil, reason: reason)
    }

    // MARK: Service thread

    /// Opens the connection and serves it until it ends, then destroys the context.
    func run(_ context: LWSContext) {
        // What lws logs on this thread concerns this connection: keep it for failure reasons.
        LibraryLog.startCapturing()
        defer { LibraryLog.stopCapturing() }
        contextPointer = context.pointer
        connectTimer.schedule(on: context.pointer, after: configuration.connectTimeout)
        drainInbox()
        if phase == .connecting {
            startConnecting(in: context.pointer)
        }
        while !stopRequested {
            if lws_service(context.pointer, 0) < 0 { break }
        }
        detach()
        connectTimer.cancel()
        context.destroy()
        contextPointer = nil
        finish(code: nil, reason: "the connection to \(target) ended")
    }

    /// Applies every queued command, in submission order.
    func drainInbox() {
        for command in inbox.takeAll() {
            switch command {
            case .send(let text): enqueue(text)
            case .close(let frame): beginClose(frame)
            case .heartbeat(let heartbeat): adopt(heartbeat)
            }
        }
    }

    private func enqueue(_ text: String) {
        guard phase != .finished, pendingClose == nil else { return }
        guard outbound.append(text) else {
            outbound.removeAll()
            beginClose(CloseFrame(code: 1008, reason: "outbound queue full: the server reads too slowly"))
            return
        }
        if phase == .open, let wsi { lws_callback_on_writable(wsi) }
    }

    /// Closes after flushing the queue once open; before that, abandons the attempt.
    func beginClose(_ frame: CloseFrame) {
        switch phase {
        case .finished:
            return
        case .connecting:
            finish(code: nil, reason: "closed by the client before the connection to \(target) opened")
        case .open:
            guard pendingClose == nil, let wsi else { return }
            pendingClose = frame
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, Int32(configuration.closeTimeout.wholeSecondsRoundedUp))
            lws_callback_on_writable(wsi)
        }
    }

    /// The handshake completed.
    func opened(_ wsi: OpaquePointer) {
        guard phase == .connecting else { return }
        self.wsi = wsi
        phase = .open
        connectTimer.cancel()
        let descriptor = lws_get_socket_fd(wsi)
        endpoints.withLock { $0 = descriptor >= 0 ? SocketEndpoints.of(descriptor: descriptor) : nil }
        continuation.yield(.connected)
        if !outbound.isEmpty || pendingClose != nil { lws_callback_on_writable(wsi) }
    }

    /// Switches the connection to `new`, counting from now: lws' validity timer is re-armed as if the server had
    /// just answered a ping. Before the connect request exists, `startConnecting` writes the policy.
    private func adopt(_ new: ClientHeartbeat) {
        guard new != heartbeat, phase != .finished else { return }
        heartbeat = new
        guard let heartbeatPolicy else { return }
        new.write(to: heartbeatPolicy)
        if phase == .open, let wsi { lws_validity_confirmed(wsi) }
    }

    /// Hands a complete message to the consumer of the events.
    func deliver(_ text: String) {
        continuation.yield(.text(text))
    }

    /// Delivers the last event, ends the stream and stops the loop. Later calls do nothing.
    func finish(code: UInt16?, reason: String) {
        guard phase != .finished else { return }
        phase = .finished
        stopRequested = true
        outbound.removeAll()
        continuation.yield(.closed(code: code, reason: reason))
        continuation.finish()
    }

    fileprivate func connectTimedOut() {
        guard phase == .connecting else { return }
        let seconds = configuration.connectTimeout.wholeSecondsRoundedUp
        finish(code: nil, reason: "timed out after \(seconds) s connecting to \(target)")
    }
}

/// `connectTimer`'s C callback.
private func clientConnectTimedOut(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ClientEventLoop.self).connectTimedOut()
}
