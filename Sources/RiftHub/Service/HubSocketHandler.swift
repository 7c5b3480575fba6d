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
///
/// Writes are committed once per pass of the service loop when the directory batches them (the hub's database):
/// from the first event of a pass that wrote something, the router's actions are held (`HeldActions`) and performed
/// after the commit at the end of the pass, so a welcome never announces addresses that are not stored yet.
final class HubSocketHandler: WebSocketServerHandler {
    private let router: Locked<HubRouter<ConnectionID>>
    /// Actions of the current pass waiting for its commit; touched on the service thread (and at shutdown).
    private let held = Locked(HeldActions<ConnectionID>())
    private let transport = Locked<ServerReference>(ServerReference())
    private let shuttingDown = Atomic<Bool>(false)
    /// The hub cluster's bus link; nil for the single hub.
    private let cluster = Locked<ClusterLink?>(nil)
    /// The peer objects of recent welcomes and `peer_joined` messages, encoded once (used where actions are performed).
    private let peerTexts = Locked(PeerObjectTexts())

    /// A weak reference to the server, which keeps its handler alive until it stops.
    private struct ServerReference { weak var server: WebSocketServer? }

    /// Checks hellos' proofs beside the service thread; verdicts come back through `proofsChecked`.
    private let proofChecks: ProofCheckWorker

    private let trustedProxies: [String]
    /// The TURN credential check whose figures /metrics adds; nil without TURN.
    private let turnCheck: TURNCheck?

    private let logger: Logger

    init(router: sending HubRouter<ConnectionID>, trustedProxies: [String], turnCheck: TURNCheck? = nil, logger: Logger) {
        self.proofChecks = ProofCheckWorker(hubKey: router.configuration.hubKey)
        self.router = Locked(router)
        self.logger = logger
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
        switch event {
        case .message(let message): routedOnServiceThread { $0.clusterReceived(message) }
        case .connectivity(let connected): routedOnServiceThread { $0.clusterConnectivityChanged(connected: connected) }
        }
    }

    /// Starts the thread that checks proofs of possession. Called once, when the server starts.
    func startProofChecks() throws(SystemCallError) {
        try proofChecks.start { [weak self] verdicts in self?.proofsChecked(verdicts) }
    }

    /// Stops that thread. Called at shutdown, after the server stopped.
    func stopProofChecks() {
        proofChecks.stop()
    }

    /// Verdicts from the proof-check thread: handed to the service thread, where the router takes them like any other
    /// event. Dropped when the server does not run.
    private func proofsChecked(_ verdicts: [ProofVerdict<ConnectionID>]) {
        routedOnServiceThread { router in verdicts.flatMap { router.proofChecked($0) } }
    }

    /// Hands an event from another thread to the service thread, where the router takes it like any other (`routed`).
    /// Dropped when the server does not run.
    private func routedOnServiceThread(
        _ event: @escaping @Sendable (inout HubRouter<ConnectionID>) -> [HubAction<ConnectionID>]
    ) {
        guard let server = transport.withLock({ $0.server }) else { return }
        server.perform { [weak self] in self?.routed(event) }
    }

    func connectionOpened(_ id: ConnectionID, request: UpgradeRequest) {
        let client = ClientAddress.resolve(remote: request.remoteAddress, forwardedFor: request.forwardedFor,
                                           trustedProxies: trustedProxies)
        let request = ConnectionRequest(path: request.path, authorization: request.authorization, host: request.host,
                                        remoteAddress: client)
        routed { $0.connectionOpened(id, request: request) }
    }

    func connection(_ id: ConnectionID, received text: String) {
        routed { $0.connection(id, received: text) }
    }

    func connectionSentOversizedMessage(_ id: ConnectionID) {
        routed { $0.connectionSentOversizedMessage(id) }
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
        routed { $0.connectionClosed(id, cause: disconnect) }
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
    /// `/service-passes` lists the service loop's latest slow passes (`ServicePassStatistics.slowPassesText`).
    func adminHTTPRequest(path: String) -> HTTPResponse? {
        switch path {
        case "/metrics":
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsText())
        case "/service-passes":
            guard let statistics = transport.withLock({ $0.server })?.servicePassStatistics else { return nil }
            return HTTPResponse(status: 200, contentType: "text/plain; charset=utf-8", body: statistics.slowPassesText())
        default:
            return httpRequest(path: path)
        }
    }

    func connectionRefused(_ refusal: ConnectionRefusal) {
        router.withLock { router in
            switch refusal {
            case .atCapacity: router.connectionRefused(.capacity, address: nil)
            case .tooManyPending(let address): router.connectionRefused(.pendingPerAddress, address: address)
            }
        }
    }

    func tick() {
        routed { $0.tick() }
    }

    /// Commits the pass's writes, then performs what waited for them (see `HeldActions` for a failed commit).
    func servicePassEnded() {
        let commit = router.withLock { router -> Result<Void, DirectoryError>? in
            guard router.directory.hasUncommittedWrites else { return nil }
            do throws(DirectoryError) {
                try router.directory.commitPendingWrites()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let actions: [HubAction<ConnectionID>]
        switch commit {
        case .failure(let error):
            logger.error("storage failure: the joins of this pass are refused", metadata: ["error": "\(error)"])
            actions = held.withLock { $0.takeAfterFailedCommit() }
        case .success, nil:
            actions = held.withLock { $0.isEmpty ? [] : $0.takeAfterCommit() }
        }
        perform(actions)
    }

    /// How many networks the directory held at the last check; callable from any thread.
    var networkCount: Int { router.withLock { $0.metrics.networks } }

    /// The metrics page; callable from any thread.
    func metricsText() -> String {
        router.withLock { $0.metrics.prometheusText() } + (turnCheck?.prometheusText() ?? "")
            + (transport.withLock { $0.server }?.servicePassStatistics?.prometheusText() ?? "")
            + ProcessMetrics.current().prometheusText()
    }

    /// Tells every connection that the hub is going away and closes it with 1001; later connections are
    /// refused the same way. Callable from any thread.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
        // Its last-seen writes are committed at once: the service loop may be ending.
        perform(router.withLock { router in
            let actions = router.shutdown()
            do {
                try router.directory.commitPendingWrites()
            } catch {
                logger.error("storage failure at shutdown", metadata: ["error": "\(error)"])
            }
            return actions
        })
    }

    /// Hands an event to the router and performs its actions, or holds them when the pass has uncommitted writes — or
    /// still holds actions (a shutdown on another thread may have committed mid-pass): nothing overtakes a held action.
    private func routed(_ event: (inout HubRouter<ConnectionID>) -> [HubAction<ConnectionID>]) {
        let (actions, uncommitted) = router.withLock { router in (event(&router), router.directory.hasUncommittedWrites) }
        if !uncommitted, held.withLock({ $0.isEmpty }) {
            perform(actions)
            return
        }
        held.withLock { $0.hold(actions) }
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
                    switch message {
                    case .welcome, .peerJoined: lastText = peerTexts.withLock { $0.encode(message) }
                    default: lastText = message.encoded()
                    }
                    lastMessage = message
                }
                server.send(lastText, to: id)
            case .close(let id, let code, let reason):
                server.close(id, code: code, reason: reason)
            case .publish(let message, let subject):
                cluster.withLock { $0 }?.publish(message, subject: subject)
            case .checkProof(let check):
                proofChecks.submit(check)
            }
        }
    }
}
