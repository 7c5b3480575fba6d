import Foundation
import Testing
@testable import RiftAgent

@Suite("riftgate ping errors")
struct PeerPingTests {
    private func socketPath() -> String {
        NSTemporaryDirectory() + "riftgate-ping-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    private func message(_ ping: PeerPing) -> String? {
        do {
            _ = try ping.run()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("no agent: says riftgate is not running")
    func agentNotRunning() {
        let text = message(PeerPing(socketPath: socketPath(), target: "server"))
        #expect(text?.contains("riftgate is not running") == true, "\(text ?? "no error")")
    }

    @Test("an unknown peer and a peer without a path are refused before any echo is sent")
    func unknownAndNoTunnel() throws {
        let path = socketPath()
        let status = StatusRenderingTests.status([
            StatusRenderingTests.peer("nas", ipv4: "100.64.0.10", state: .ice(.gathering), type: nil, mode: nil, handshake: nil),
        ])
        let server = try ControlServer(path: path, group: "nonexistent-group", status: { [status] in status }, onDown: {})
        defer { server.shutdown() }
        let unknown = message(PeerPing(socketPath: path, target: "printer"))
        #expect(unknown?.contains("unknown peer printer (known peers: nas)") == true, "\(unknown ?? "no error")")
        let noTunnel = message(PeerPing(socketPath: path, target: "100.64.0.10"))
        #expect(noTunnel?.contains("no tunnel to nas yet (state gathering)") == true, "\(noTunnel ?? "no error")")
    }
}
