internal import CRiftWebSockets
import Synchronization

/// Work other threads hand to a server's service thread.
enum ServerCommand {
    case send(ConnectionID, String)
    case close(ConnectionID, CloseFrame)
    case shutdown(CloseFrame, timeout: Duration)
}

/// The state a `WebSocketServer`'s service thread works on, and the inbox other threads feed it.
///
/// Everything except `shared` belongs to the service thread: it is touched only from lws
/// callbacks and `run`, which all execute on that thread. Other threads only call `submit`.
final class ServerEventLoop: @unchecked Sendable {
    let configuration: WebSocketServer.Configuration
    /// Released when the loop ends, which breaks the cycle through a handler owning the server.
    var handler: (any WebSocketServerHandler)?

    /// Guarded by its lock: pending commands and the context to wake (nil when not running).
    private let shared = Mutex<SharedState>(SharedState())

    private struct SharedState: @unchecked Sendable {
        var commands: [ServerCommand] = []
        /// The `lws_context *` to pass to `lws_cancel_service`; cleared before it is destroyed.
        var wakeTarget: OpaquePointer?
    }

    // MARK: Service-thread state

    var connections: [ConnectionID: ServerConnection] = [:]
    /// Open connections by their `struct lws *`.
    var connectionIDs: [OpaquePointer: ConnectionID] = [:]
    /// HTTP bodies waiting for their connection to become writeable, by `struct lws *`.
    var pendingHTTPBodies: [OpaquePointer: String] = [:]
    let writer = PayloadWriter()
    /// Set by a shutdown command: new connections are refused and open ones are closing.
    var shutdownFrame: CloseFrame?
    /// Makes `run` leave its loop after the current `lws_service` pass.
    var stopRequested = false
    private(set) var contextPointer: OpaquePointer?
    private(set) lazy var tickTimer = LWSTimer(owner: self, callback: serverTickFired)
    private(set) lazy var shutdownTimer = LWSTimer(owner: self, callback: serverShutdownDeadlinePassed)

    init(configuration: WebSocketServer.Configuration, handler: any WebSocketServerHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    // MARK: Any thread

    /// Makes `context` the target of wake-ups; called before the service thread starts.
    func attach(to context: LWSContext) {
        shared.withLock { $0.wakeTarget = context.pointer }
    }

    /// Stops wake-ups before the context is destroyed, dropping pending commands.
    func detach() {
        shared.withLock { state in
            state.wakeTarget = nil
            state.commands = []
        }
    }

    /// Queues `command` for the service thread and wakes it. Dropped when the loop is not running.
    ///
    /// Wakes only when the inbox was empty: a non-empty inbox already has a wake-up pending, and
    /// the service thread takes the whole inbox at once.
    func submit(_ command: ServerCommand) {
        shared.withLock { state in
            guard let context = state.wakeTarget else { return }
            state.commands.append(command)
            if state.commands.count == 1 {
                lws_cancel_service(context)
            }
        }
    }

    // MARK: Service thread

    /// Serves `context` until a shutdown completes or lws fails, then destroys it (which tells
    /// the handler about every connection still open) and lets go of the handler.
    func run(_ context: LWSContext) {
        contextPointer = context.pointer
        tickTimer.schedule(on: context.pointer, after: configuration.tickInterval)
        while !stopRequested {
            if lws_service(context.pointer, 0) < 0 { break }
        }
        detach()
        tickTimer.cancel()
        shutdownTimer.cancel()
        context.destroy()
        contextPointer = nil
        handler = nil
    }

    /// Applies every queued command, in submission order.
    func drainInbox() {
        var commands: [ServerCommand] = []
        shared.withLock { swap(&commands, &$0.commands) }
        for command in commands {
            switch command {
            case .send(let id, let text): enqueue(text, for: id)
            case .close(let id, let frame): beginClose(id, frame)
            case .shutdown(let frame, let timeout): beginShutdown(frame, timeout: timeout)
            }
        }
    }

    private func enqueue(_ text: String, for id: ConnectionID) {
        guard let connection = connections[id], connection.pendingClose == nil else { return }
        if connection.outbound.append(text) {
            lws_callback_on_writable(connection.wsi)
            return
        }
        connection.outbound.removeAll()
        handler?.connectionOverflowedOutboundQueue(id)
        beginClose(id, CloseFrame(code: 1008, reason: "outbound queue full: the client reads too slowly"))
    }

    /// Marks the connection to close once its queue is flushed, bounded by `closeTimeout`.
    func beginClose(_ id: ConnectionID, _ frame: CloseFrame) {
        guard let connection = connections[id], connection.pendingClose == nil else { return }
        connection.pendingClose = frame
        connection.deliversInput = false
        lws_set_timeout(connection.wsi, PENDING_TIMEOUT_USER_OK, Int32(configuration.closeTimeout.wholeSecondsRoundedUp))
        lws_callback_on_writable(connection.wsi)
    }

    private func beginShutdown(_ frame: CloseFrame, timeout: Duration) {
        guard shutdownFrame == nil, let contextPointer else { return }
        shutdownFrame = frame
        for id in connections.keys { beginClose(id, frame) }
        if connections.isEmpty {
            stopRequested = true
        } else {
            shutdownTimer.schedule(on: contextPointer, after: timeout)
        }
    }

    fileprivate func tick() {
        handler?.tick()
        if let contextPointer { tickTimer.schedule(on: contextPointer, after: configuration.tickInterval) }
    }
}

/// `tickTimer`'s C callback.
private func serverTickFired(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ServerEventLoop.self).tick()
}

/// `shutdownTimer`'s C callback: connections that did not close in time are dropped when the
/// context is destroyed.
private func serverShutdownDeadlinePassed(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ServerEventLoop.self).stopRequested = true
}
