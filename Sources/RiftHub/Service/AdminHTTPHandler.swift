import RiftWebSocket
import RiftSupport

/// The admin listener's handler: `/healthz`, `/metrics` and `/service-passes` only; WebSocket upgrades are refused.
final class AdminHTTPHandler: WebSocketServerHandler {
    private let hub: HubSocketHandler
    private let transport = Locked<WeakServer>(WeakServer())
    private struct WeakServer { weak var server: WebSocketServer? }

    init(hub: HubSocketHandler) { self.hub = hub }

    func attach(_ server: WebSocketServer) { transport.withLock { $0.server = server } }

    func connectionOpened(_ id: ConnectionID, request: UpgradeRequest) {
        transport.withLock { $0.server }?.close(id, code: 1008, reason: "the admin port serves only /healthz, /metrics and /service-passes")
    }

    func connection(_ id: ConnectionID, received text: String) {}
    func connectionSentOversizedMessage(_ id: ConnectionID) {}
    func connectionClosed(_ id: ConnectionID) {}
    func httpRequest(path: String) -> HTTPResponse? { hub.adminHTTPRequest(path: path) }
    func tick() {}
}
