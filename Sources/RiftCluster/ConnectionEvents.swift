internal import CRiftNATS
import Dispatch
import Logging
import RiftSupport

/// The object libnats' connection callbacks (disconnected, reconnected, closed, asynchronous error) report to.
///
/// libnats calls them one at a time on its asynchronous-callback thread, never on the caller's. Each change is logged
/// once: a disconnection when the connection was up (libnats reports one again when a connection that is already down
/// is closed), a reconnection with the server and how long the bus was down, the closing once. `ClusterBus` retains
/// this object once for the connection (`Unmanaged`); libnats' `closed` callback, the last one, releases it.
final class ConnectionEvents: Sendable {
    private struct State {
        var isUp = true
        var downSince: ContinuousClock.Instant?
        var closing = false
        var closed = false
        var asynchronousErrors = 0
    }

    private let logger: Logger
    private let servers: ServerList
    private let handler: (@Sendable (ClusterBusEvent) -> Void)?
    private let state = Locked(State())
    /// Signalled once, when libnats reports the connection closed.
    let closedSignal = DispatchSemaphore(value: 0)

    init(logger: Logger, servers: ServerList, handler: (@Sendable (ClusterBusEvent) -> Void)?) {
        self.logger = logger
        self.servers = servers
        self.handler = handler
    }

    /// Marks the closing as asked for, so that the disconnection libnats reports on the way is not logged as an outage.
    func willClose() {
        state.withLock { $0.closing = true }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func disconnected() {
        let (report, closing) = state.withLock { state -> (Bool, Bool) in
            defer { state.isUp = false }
            if state.isUp { state.downSince = .now }
            return (state.isUp && !state.closed, state.closing)
        }
        guard report else { return }
        if closing {
            logger.debug("NATS connection going down: closing")  // not an outage: no event
            return
        }
        logger.warning("NATS connection lost; reconnecting", metadata: ["servers": "\(servers)"])
        handler?(.disconnected)
    }

    func reconnected(server: String) {
        let downFor = state.withLock { state -> Duration? in
            state.isUp = true
            defer { state.downSince = nil }
            return state.downSince.map { .now - $0 }
        }
        logger.notice(
            "NATS connection restored", metadata: ["server": "\(server)", "down_for": "\(downFor.map { "\($0)" } ?? "?")"])
        handler?(.reconnected(server: server))
    }

    func closed() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true; state.isUp = false }
            return !state.closed
        }
        guard first else { return }
        logger.info("NATS connection closed")
        handler?(.closed)
        closedSignal.signal()
    }

    /// An error libnats found outside any call (a slow consumer dropping messages, a permission violation): logged
    /// for the first and then every thousandth, so that a storm does not flood the log.
    func asynchronousError(_ text: String) {
        let count = state.withLock { state -> Int in
            state.asynchronousErrors += 1
            return state.asynchronousErrors
        }
        if count == 1 || count % 1000 == 0 {
            logger.warning("NATS asynchronous error", metadata: ["error": "\(servers.scrub(text))", "count": "\(count)"])
        }
    }
}

// MARK: - C callbacks (libnats' asynchronous-callback thread)

/// The context pointer handed to libnats: the `ConnectionEvents`, retained once by `ClusterBus.connect`.
private func events(_ closure: UnsafeMutableRawPointer?) -> ConnectionEvents {
    Unmanaged<ConnectionEvents>.fromOpaque(closure!).takeUnretainedValue()
}

let connectionDisconnectedCallback: natsConnectionHandler = { _, closure in
    events(closure).disconnected()
}

let connectionReconnectedCallback: natsConnectionHandler = { connection, closure in
    let events = events(closure)
    events.reconnected(server: connectedServer(connection) ?? "?")
}

/// libnats reports `closed` once and last (its callback queue is in order): the retain taken by `connect` ends here.
let connectionClosedCallback: natsConnectionHandler = { _, closure in
    Unmanaged<ConnectionEvents>.fromOpaque(closure!).takeRetainedValue().closed()
}

let connectionErrorCallback: natsErrHandler = { _, _, status, closure in
    events(closure).asynchronousError(String(cString: natsStatus_GetText(status)))
}

/// The (redacted) URL of the server `connection` is attached to, or nil while it is not connected.
func connectedServer(_ connection: OpaquePointer?) -> String? {
    var buffer = [CChar](repeating: 0, count: 512)
    guard natsConnection_GetConnectedUrl(connection, &buffer, buffer.count) == NATS_OK else { return nil }
    let url = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return url.isEmpty ? nil : ServerList.redact(url)
}
