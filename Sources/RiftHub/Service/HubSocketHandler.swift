import Logging
import RiftProtocol
import RiftWebSocket
import RiftSupport
import Synchronization

/// Connects the routing core to the WebSocket server: turns server callbacks into router events and the
/// router's actions into `send`/`close` calls.
///
/// The server calls it on its service thread, one event at a time. The router sits in a `Locked` all the
/// same, because two other threads read or touch it: the admin listener's thread (metrics) and the
/// thread that runs graceful shutdown. The lock is uncontended in normal operation.
final class HubSocketHandler: WebSocketServerHandler {
    private let router: Locked<HubRouter<ConnectionID>>
    private let transport = Locked<ServerReference>(ServerReference())
    private let shuttingDown = Atomic<Bool>(false)
    /// The hub cluster's bus link; nil for the single hub.
    private let cluster = Locked<ClusterLink?>(nil)

    /// A weak reference to the server, which keeps its handler alive until it stops.
    private struct ServerReference { weak var server: WebSocketServer? }

    private let trustedProxies: [String]
    /// The TURN credential check whose figures /metrics adds; nil without TURN.
    private let turnCheck: TURNCheck?

    init(router: sending HubRouter<ConnectionID>, trustedProxies: [String], turnCheck: TURNCheck? = nil) {
        self.router = Locked(router)
        self.trustedProxies = trustedProxies
        self.turnCheck = turnCheck
    }

    /// Gives the handler the server its actions go to. Called once, before the server starts.
    func attach(_ server: WebSocketServer) {
        transport.withLock { $0.server = server }
    }

    /// Gives the handler the cluster link its cluster actions go to. Called once, before the server starts.
    func attach(_ link: ClusterLink) {
        cluster.withLock { $0 = link }
    }

    /// An event from the cluster bus, on one of libnats' threads: handed to the service thread, where the router
    /// takes it like any other event. Dropped when the server does not run.
    func clusterEvent(_ event: ClusterLinkEvent) {
        guard let server = transport.withLock({ $0.server }) else { return }
        server.perform { [weak self] in
            guard let self else { return }
            switch event {
            case .message(let message): perform(router.withLock { $0.clusterReceived(message) })
            case .connectivity(let connected): perform(router.withLock { $0.clusterConnectivityChanged(connected: connected) })
            }
        }
    }

    func connectionOpened(_ id: ConnectionID, request: UpgradeRequest) {
        let client = ClientAddress.resolve(remote: request.remoteAddress, forwardedFor: request.forwardedFor,
                                           trustedProxies: trustedProxies)
        let request = ConnectionRequest(path: request.path, authorization: request.authorization, host: request.host,
                                        remoteAddress: client)
        perform(router.withLock { $0.connectionOpened(id, request: request) })
    }

    func connection(_ id: ConnectionID, received text: String) {
        perform(router.withLock { $0.connection(id, received: text) })
    }

    func connectionSentOversizedMessage(_ id: ConnectionID) {
        perform(router.withLock { $0.connectionSentOversizedMessage(id) })
    }

    func connectionOverflowedOutboundQueue(_ id: ConnectionID) {
        router.withLock { $0.connectionFellBehind(id) }
    }

    func connectionClosed(_ id: ConnectionID) {
        connectionClosed(id, cause: .lost)
    }

    func connectionClosed(_ id: ConnectionID, cause: ConnectionCloseCause) {
        // A heartbeat drop is announced to the others as `peer_left` reason `timeout`.
        let disconnect: DisconnectCause = cause == .heartbeatTimeout ? .heartbeatTimeout : .closed
        perform(router.withLock { $0.connectionClosed(id, cause: disconnect) })
    }

    func httpRequest(path: String) -> HTTPResponse? {
        switch path {
        case "/healthz":
            shuttingDown.load(ordering: .relaxed)
                ? HTTPResponse(status: 503, contentType: "text/plain; charset=utf-8", body: "shutting down\n")
                : HTTPResponse(status: 200, contentType: "text/plain; charset=utf-8", body: "ok\n")
        default:
            nil
        }
    }

    /// The admin listener's pages: `/healthz`, and `/metrics`, which is never served on the public port (its counters
    /// are for the operator, not for whoever can reach the WebSocket listener).
    func adminHTTPRequest(path: String) -> HTTPResponse? {
        guard path == "/metrics" else { return httpRequest(path: path) }
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsText())
    }

    func tick() {
        perform(router.withLock { $0.tick() })
    }

    /// How many networks the directory held at the last check; callable from any thread.
    var networkCount: Int { router.withLock { $0.metrics.networks } }

    /// The metrics page; callable from any thread.
    func metricsText() -> String {
        router.withLock { $0.metrics.prometheusText() } + (turnCheck?.prometheusText() ?? "") + ProcessMetrics.current().prometheusText()
    }

    /// Tells every connection that the hub is going away and closes it with 1001; later connections are
    /// refused the same way. Callable from any thread.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
        perform(router.withLock { $0.shutdown() })
    }

    /// Performs actions in order. Consecutive sends of the same message (a broadcast) are encoded once.
    private func perform(_ actions: [HubAction<ConnectionID>]) {
        guard !actions.isEmpty, let server = transport.withLock({ $0.server }) else { return }
        var lastMessage: HubMessage?
        var lastText = ""
        for action in actions {
            switch action {
            case .send(let message, let id):
                if message != lastMessage {
                    lastText = message.encoded()
                    lastMessage = message
                }
                server.send(lastText, to: id)
            case .close(let id, let code, let reason):
                server.close(id, code: code, reason: reason)
            case .publish(let message, let subject):
                cluster.withLock { $0 }?.publish(message, subject: subject)
            }
        }
    }
}
