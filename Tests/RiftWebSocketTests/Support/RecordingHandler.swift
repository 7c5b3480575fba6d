import RiftWebSocket
import RiftSupport
import Synchronization

/// A server handler that records every event and optionally echoes, answering `/healthz`.
final class RecordingHandler: WebSocketServerHandler {
    enum Event: Sendable, Equatable {
        case opened(ConnectionID, UpgradeRequest)
        case received(ConnectionID, String)
        case oversized(ConnectionID)
        case overflowed(ConnectionID)
        case closed(ConnectionID)
    }

    let log = SharedLog<Event>()
    /// Connections the server closed as it accepted them (kept apart: they never open).
    let refused = SharedLog<ConnectionRefusal>()
    let ticks = Atomic<Int>(0)
    /// Echo every message back to its sender.
    let echoes: Bool
    /// Sent to a client right before the server closes it for an oversized message.
    let oversizedReply: String?
    private let server = Locked<WebSocketServer?>(nil)

    init(echoes: Bool = true, oversizedReply: String? = nil) {
        self.echoes = echoes
        self.oversizedReply = oversizedReply
    }

    /// The server to answer through (the handler is created before the server).
    func attach(_ server: WebSocketServer) {
        self.server.withLock { $0 = server }
    }

    var events: [Event] { log.all }
    var refusals: [ConnectionRefusal] { refused.all }
    var opened: [(ConnectionID, UpgradeRequest)] {
        events.compactMap { if case .opened(let id, let request) = $0 { (id, request) } else { nil } }
    }
    var openedIDs: [ConnectionID] { opened.map(\.0) }
    var closedIDs: [ConnectionID] {
        events.compactMap { if case .closed(let id) = $0 { id } else { nil } }
    }
    func received(on id: ConnectionID) -> [String] {
        events.compactMap { if case .received(id, let text) = $0 { text } else { nil } }
    }

    func connectionOpened(_ id: ConnectionID, request: UpgradeRequest) {
        log.append(.opened(id, request))
    }

    func connection(_ id: ConnectionID, received text: String) {
        log.append(.received(id, text))
        if echoes { server.withLock { $0 }?.send(text, to: id) }
    }

    func connectionSentOversizedMessage(_ id: ConnectionID) {
        log.append(.oversized(id))
        if let oversizedReply { server.withLock { $0 }?.send(oversizedReply, to: id) }
    }

    func connectionOverflowedOutboundQueue(_ id: ConnectionID) {
        log.append(.overflowed(id))
    }

    func connectionClosed(_ id: ConnectionID) {
        log.append(.closed(id))
    }

    func connectionRefused(_ refusal: ConnectionRefusal) {
        refused.append(refusal)
    }

    func httpRequest(path: String) -> HTTPResponse? {
        path == "/healthz" ? HTTPResponse(status: 200, contentType: "text/plain", body: "ok\n") : nil
    }

    func tick() {
        ticks.add(1, ordering: .relaxed)
    }
}

/// Starts a server on 127.0.0.1 with an ephemeral port, wired to `handler`.
func startServer(
    _ handler: RecordingHandler, _ configure: (inout WebSocketServer.Configuration) -> Void = { _ in }
) throws -> WebSocketServer {
    var configuration = WebSocketServer.Configuration()
    configuration.host = "127.0.0.1"
    configure(&configuration)
    let server = try WebSocketServer(configuration: configuration, handler: handler)
    handler.attach(server)
    try server.start()
    return server
}
