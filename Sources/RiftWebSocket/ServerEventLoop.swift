internal import CRiftWebSockets
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work other threads hand to a server's service thread.
enum ServerCommand {
    case send(ConnectionID, String)
    case close(ConnectionID, CloseFrame)
    case shutdown(CloseFrame, timeout: Duration)
    /// Work another thread hands to the service thread (the hub's cluster messages).
    case perform(@Sendable () -> Void)
}

/// The state a `WebSocketServer`'s service thread works on, and the inbox other threads feed it.
///
/// Everything except `inbox` belongs to the service thread: it is touched only from lws
/// callbacks and `run`, which all execute on that thread. Other threads only call `submit`.
final class ServerEventLoop: @unchecked Sendable {
    let configuration: WebSocketServer.Configuration
    /// Released when the loop ends, which breaks the cycle through a handler owning the server.
    var handler: (any WebSocketServerHandler)?

    /// What other threads hand to the service thread.
    let inbox = ServiceInbox<ServerCommand>(acceptsCommandsBeforeAttach: false)
    /// The service thread's `pthread_t` while it serves (0 otherwise): commands it submits itself (a handler replying
    /// or relaying) are applied at once, without the inbox's lock and the wake-up (a pipe write and one more loop
    /// iteration per batch). Written only by that thread; another thread can never see its own id here.
    private let servingThread = Atomic<UInt>(0)

    // MARK: Service-thread state

    var connections: [ConnectionID: ServerConnection] = [:]
    /// Open connections by their `struct lws *`.
    var connectionIDs: [OpaquePointer: ConnectionID] = [:]
    /// HTTP bodies waiting for their connection to become writeable, by `struct lws *`.
    var pendingHTTPBodies: [OpaquePointer: String] = [:]
    let writer = PayloadWriter()
    /// Which accepted sockets are kept (`ServerEventLoop+Accept`).
    var acceptGuard: AcceptGuard
    /// The descriptor of every accepted socket, by `struct lws *` (lws forgets it before destroying the connection);
    /// `AcceptGuard` and the `frameStreamWatcher` let go of it at `WSI_DESTROY`.
    var acceptedDescriptors: [OpaquePointer: Int32] = [:]
    /// Counts what each pass of the loop does and, with `Configuration.recordsServicePasses`, times the passes.
    let passes = ServicePassRecorder()
    /// Set by a shutdown command: new connections are refused and open ones are closing.
    var shutdownFrame: CloseFrame?
    /// Makes `run` leave its loop after the current pass.
    var stopRequested = false
    private(set) var contextPointer: OpaquePointer?
    private(set) lazy var tickTimer = LWSTimer(owner: self, callback: serverTickFired)
    private(set) lazy var shutdownTimer = LWSTimer(owner: self, callback: serverShutdownDeadlinePassed)
    private(set) lazy var heartbeatTimer = LWSTimer(owner: self, callback: serverHeartbeatFired)
    /// Connections by the second their silence is next looked at (see `ServerEventLoop+Heartbeats`).
    var heartbeats: HeartbeatWheel<ConnectionID>
    /// Each group's share of the writes per pass (`Configuration.writesPerGroupPerPass`).
    var fairness: FairWriteScheduler
    /// Each group's share of the handler's attention per pass (`Configuration.eventsPerGroupPerPass`).
    var eventFairness: FairEventScheduler<HandlerEvent>
    /// Held events being handed over now (kept to reuse its storage).
    private var eventBatch: [HandlerEvent] = []
    /// Slot 0 of `heartbeats`.
    let heartbeatEpoch = ContinuousClock.now

    init(configuration: WebSocketServer.Configuration, handler: any WebSocketServerHandler) {
        self.configuration = configuration
        self.handler = handler
        let slotsPerSecond = Int(Duration.seconds(1) / Self.heartbeatSlot)
        heartbeats = HeartbeatWheel(horizon: (configuration.pongTimeout.wholeSecondsRoundedUp + 1) * slotsPerSecond,
                                    startingAt: 0)
        fairness = FairWriteScheduler(armsPerPass: configuration.writesPerGroupPerPass)
        acceptGuard = AcceptGuard(maximumSockets: .max,
                                  maximumPendingPerAddress: configuration.maximumPendingConnectionsPerAddress,
                                  exemptAddresses: configuration.pendingLimitExemptAddresses.compactMap(ClientAddressKey.init),
                                  exemptsLoopback: configuration.pendingLimitExemptsLoopback)
        eventFairness = FairEventScheduler(eventsPerPass: configuration.eventsPerGroupPerPass)
    }

    // MARK: Any thread

    /// Makes `context` the target of wake-ups; called before the service thread starts.
    func attach(to context: LWSContext) {
        inbox.attach(to: context)
    }

    /// Stops wake-ups before the context is destroyed, dropping pending commands.
    func detach() {
        inbox.detach()
    }

    /// Queues `command` for the service thread and wakes it, or applies it at once when called on that thread while
    /// it serves. Dropped when the loop is not running.
    func submit(_ command: ServerCommand) {
        if servingThread.load(ordering: .relaxed) == UInt(pthread_self()) {
            apply(command)
        } else {
            inbox.submit(command)
        }
    }

    // MARK: Service thread

    /// Serves `context` until a shutdown completes or lws fails, then destroys it (which tells
    /// the handler about every connection still open) and lets go of the handler.
    func run(_ context: LWSContext) {
        guard let eventLoop = context.eventLoop else {
            preconditionFailure("a server context runs on a libev loop (LWSContext.server)")
        }
        contextPointer = context.pointer
        tickTimer.schedule(on: context.pointer, after: configuration.tickInterval)
        heartbeatTimer.schedule(on: context.pointer, after: Self.heartbeatSlot)
        servingThread.store(UInt(pthread_self()), ordering: .relaxed)
        // lws 4.1 arms its libev timer for its timer list only after an I/O event or a timer fired, not when a
        // timer is scheduled: this wake-up is the first event, so the timers above start running.
        lws_cancel_service(context.pointer)
        let timesPasses = configuration.recordsServicePasses
        if timesPasses { eventLoop.observeWaits(passes) }
        while !stopRequested {
            // Held events are handed over at the end of this pass: do not sleep waiting for I/O before it.
            if eventFairness.hasHeld { eventLoop.runReady() } else { eventLoop.runOnce() }
            applyFrameStreamReports()
            endFairnessPass()
            passes.run(timed: timesPasses, into: \.passEndNanoseconds) { handler?.servicePassEnded() }
        }
        if timesPasses { eventLoop.stopObservingWaits() }
        // Whatever is still held goes to the handler now, and context destruction reports closes directly.
        eventFairness.takeEverything(into: &eventBatch)
        deliverEventBatch()
        handler?.servicePassEnded()
        eventFairness = FairEventScheduler(eventsPerPass: 0)
        // From here on (context destruction reports closed connections) the handler's sends are dropped again.
        servingThread.store(0, ordering: .relaxed)
        detach()
        tickTimer.cancel()
        shutdownTimer.cancel()
        heartbeatTimer.cancel()
        context.destroy()
        contextPointer = nil
        handler?.servicePassEnded()
        handler = nil
    }

    /// Applies every queued command, in submission order.
    func drainInbox() {
        let commands = inbox.takeAll()
        passes.activity.inboxCommands &+= UInt64(commands.count)
        for command in commands { apply(command) }
    }

    private func apply(_ command: ServerCommand) {
        switch command {
        case .send(let id, let text): enqueue(text, for: id)
        case .close(let id, let frame): beginClose(id, frame)
        case .shutdown(let frame, let timeout): beginShutdown(frame, timeout: timeout)
        case .perform(let work): work()
        }
    }

    private func enqueue(_ text: String, for id: ConnectionID) {
        guard let connection = connections[id], connection.pendingClose == nil else { return }
        if writeAtOnce(text, to: connection) { return }
        if connection.outbound.append(text) {
            requestWrite(connection)
            return
        }
        connection.outbound.removeAll()
        handler?.connectionOverflowedOutboundQueue(id)
        beginClose(id, CloseFrame(code: 1008, reason: "outbound queue full: the client reads too slowly"))
    }

    /// Writes `text` now instead of arming the writable callback (two `epoll_ctl` and one more loop pass per message)
    /// when nothing is queued before it: the queue is empty, the connection is not waiting for a later pass, its
    /// group may still write in this pass (the write counts toward its share, as an arm does) and lws holds nothing
    /// of an earlier partial write (`lws_partial_buffered`, a flag: no system call). lws 4.1 then sends the frame or,
    /// if the kernel takes only part of it (or none: a full socket), keeps the rest in its own buffer, arms the
    /// writable callback and sends that rest first; until then later messages are queued behind it. Writing while lws
    /// holds a partial frame corrupts the stream (lws 4.1 can then send a frame without its header; `WriteAtOnceTests`
    /// fails without this check). False when the message must be queued instead.
    private func writeAtOnce(_ text: String, to connection: ServerConnection) -> Bool {
        guard connection.outbound.isEmpty, !connection.isPostponed, text.utf8.count <= connection.outbound.maximumBytes,
              admitWrite(connection) else { return false }
        guard lws_partial_buffered(connection.wsi) == 0 else { return false }
        passes.activity.writes &+= 1
        if !writer.write(text, to: connection.wsi, as: LWS_WRITE_TEXT) {
            // Not from inside this connection's callback: lws closes it at its next service.
            lws_set_timeout(connection.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
        }
        return true
    }

    /// Whether the connection may write in this pass: already counted in it, or its group still has share left (then
    /// it is counted, once per pass).
    private func admitWrite(_ connection: ServerConnection) -> Bool {
        guard connection.armedPass == fairness.pass || fairness.admit(connection.group) else { return false }
        connection.armedPass = fairness.pass
        return true
    }

    /// Arms the connection's writable callback, or postpones it when its group used its share of this pass.
    private func requestWrite(_ connection: ServerConnection) {
        if connection.isPostponed { return }
        if admitWrite(connection) {
            lws_callback_on_writable(connection.wsi)
        } else {
            connection.isPostponed = true
            fairness.postpone(connection.id, group: connection.group)
        }
    }

    /// Ends a pass of the service loop: arms the share of postponed connections the next pass may write to.
    private func endFairnessPass() {
        eventFairness.endPass(into: &eventBatch)
        deliverEventBatch()
        guard fairness.hasPostponed else {
            fairness.endPass { _ in false }
            return
        }
        let connections = self.connections
        let nextPass = fairness.pass &+ 1
        fairness.endPass { id in
            guard let connection = connections[id], connection.isPostponed else { return false }
            connection.isPostponed = false
            connection.armedPass = nextPass
            lws_callback_on_writable(connection.wsi)
            return true
        }
    }

    /// Hands `event` of a connection of `group` to the handler now, or holds it when the group used its share of this
    /// pass (or holds earlier events).
    func dispatch(_ event: HandlerEvent, group: Int) {
        if eventFairness.admit(group) {
            deliver(event)
        } else {
            eventFairness.hold(event, group: group, overflow: &eventBatch)
            deliverEventBatch()
        }
    }

    /// Hands the held events of `group` to the handler at once, before an event that cannot wait behind them.
    func flushHeldEvents(of group: Int) {
        guard eventFairness.isHolding(group) else { return }
        eventFairness.takeAll(group, into: &eventBatch)
        deliverEventBatch()
    }

    private func deliverEventBatch() {
        var index = 0
        while index < eventBatch.count {
            let event = eventBatch[index]
            index += 1
            deliver(event)
        }
        eventBatch.removeAll(keepingCapacity: true)
    }

    private func deliver(_ event: HandlerEvent) {
        passes.activity.handlerEvents &+= 1
        switch event {
        case .opened(let id, let request): handler?.connectionOpened(id, request: request)
        case .received(let id, let text): handler?.connection(id, received: text)
        case .closed(let id, let cause): handler?.connectionClosed(id, cause: cause)
        }
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
        passes.activity.timers &+= 1
        passes.run(timed: configuration.recordsServicePasses, into: \.tickNanoseconds) { handler?.tick() }
        if let contextPointer { tickTimer.schedule(on: contextPointer, after: configuration.tickInterval) }
    }
}

/// `tickTimer`'s C callback.
private func serverTickFired(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ServerEventLoop.self).tick()
}

/// `heartbeatTimer`'s C callback.
private func serverHeartbeatFired(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ServerEventLoop.self).heartbeatTick()
}

/// `shutdownTimer`'s C callback: connections that did not close in time are dropped when the
/// context is destroyed.
private func serverShutdownDeadlinePassed(_ entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    LWSTimer.owner(of: entry, as: ServerEventLoop.self).stopRequested = true
}
