import Foundation
@testable import RiftAgent
import RiftProtocol
import RiftSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Control socket")
struct ControlServerTests {
    private func socketPath() -> String {
        NSTemporaryDirectory() + "riftgate-control-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    /// A connected client that sends nothing.
    private func idleClient(_ path: String) throws -> Int32 {
        let fd = try SystemCall.socket(AF_UNIX, .stream)
        try SystemCall.connect(fd, to: try #require(SocketAddress(unixPath: path)))
        return fd
    }

    @Test("idle clients delay nobody: status answers at once with three silent connections open")
    func idleClientsDoNotBlock() throws {
        let path = socketPath()
        let server = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {})
        defer { server.shutdown() }
        let idle = try (0..<3).map { _ in try idleClient(path) }
        defer { idle.forEach { close($0) } }
        let started = ContinuousClock.now
        let status = try ControlClient.status(socketPath: path)
        #expect(ContinuousClock.now - started < .seconds(4), "no waiting behind the idle clients (2 s each if served one by one)")
        #expect(status.name == AgentStatus.placeholder.name)
    }

    @Test("a second agent of the same configuration is refused while the first answers; a stale socket file is replaced")
    func secondAgentRefused() throws {
        let path = socketPath()
        let first = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {})
        #expect {
            _ = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {})
        } throws: { "\($0)".contains("another riftgate agent") }
        #expect(try ControlClient.status(socketPath: path).name == AgentStatus.placeholder.name, "the first still answers")
        first.shutdown()

        // A killed agent's socket file stays behind; nothing answers on it, so the next agent takes its place.
        let stale = try SystemCall.socket(AF_UNIX, .stream)
        try SystemCall.bind(stale, to: try #require(SocketAddress(unixPath: path)))
        close(stale)
        let next = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {})
        defer { next.shutdown() }
        #expect(try ControlClient.status(socketPath: path).name == AgentStatus.placeholder.name)
    }

    @Test("down from root stops the agent; unknown requests get an error")
    func down() throws {
        let path = socketPath()
        let stopped = Atomic<Int>(0)
        let server = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder },
                                       onDown: { stopped.add(1, ordering: .relaxed) })
        defer { server.shutdown() }
        let unknown = String(decoding: try ControlClient.request("reboot", socketPath: path), as: UTF8.self)
        #expect(unknown.contains("unknown request"))
        let reply = String(decoding: try ControlClient.request("down", socketPath: path), as: UTF8.self)
        // Tests run as root or as the same user as the server: both may stop it.
        #expect(reply.contains("stopping"))
        #expect(stopped.load(ordering: .relaxed) == 1)
    }

    @Test("turn hands root (or the agent's own user) the TURN servers and credentials the agent holds")
    func turnServers() throws {
        let path = socketPath()
        let set = TURNCredentialSet(TURNServer(urls: ["turn:relay.example:3478?transport=udp"], username: "99:key",
                                               credential: "secret", expiresAt: 99))
        let server = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {},
                                       turnServers: { [set] })
        defer { server.shutdown() }
        #expect(try ControlClient.turnServers(socketPath: path) == [set])
    }

    @Test("shutdown waits for the serving thread, removes the socket, and is safe while clients connect")
    func shutdownRace() throws {
        for _ in 0..<50 {
            let path = socketPath()
            let server = try ControlServer(path: path, group: "nonexistent-group", status: { AgentStatus.placeholder }, onDown: {})
            let client = Thread { _ = try? ControlClient.request("status", socketPath: path) }
            client.start()
            server.shutdown()
            server.shutdown()  // idempotent
            #expect(access(path, F_OK) != 0, "the socket file is gone")
            #expect(throws: AgentError.self) { try ControlClient.request("status", socketPath: path) }
        }
    }
}
