import Foundation
import Testing
@testable import RiftAgent

@Suite("Metrics textfile")
struct MetricsTextfileTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func peer(_ name: String, state: AgentStatus.PeerState, pathType: AgentStatus.PathType?, handshake: Int64?,
                     restarts: Int64?) -> AgentStatus.Peer {
        AgentStatus.Peer(
            name: name, publicKey: "key-\(name)=", ipv4: "100.64.0.9", ipv6: "fd00::9", state: state, pathType: pathType,
            pathMode: pathType == nil ? nil : .forwarded, pathReason: "test", localCandidate: nil, remoteCandidate: nil,
            endpoint: nil, lastHandshakeSecondsAgo: handshake, rxBytes: 1234, txBytes: 5678, iceState: .ready,
            lastRecoveryReason: nil, iceRestarts: restarts)
    }

    static let status = AgentStatus(
        name: "laptop", publicKey: "self=", network: "home", interface: "riftgate0", ipv4: "100.64.0.1", ipv6: nil,
        listenPort: 51820, backend: "wireguard-go", hub: .init(url: "wss://hub.example", state: .connected, lastError: nil),
        peers: [
            peer("server", state: .connected, pathType: .relayed, handshake: 12, restarts: 3),
            peer("new \"one\"", state: .ice(.connecting), pathType: nil, handshake: nil, restarts: nil),
        ])

    func lines(_ text: String) -> Set<String> { Set(text.split(separator: "\n").map(String.init)) }

    @Test("per-peer connectivity, path type, handshake age, bytes and ICE restarts")
    func rendersPeers() {
        let text = Self.status.prometheusTextfile
        let got = lines(text)
        let server = #"interface="riftgate0",peer="server",public_key="key-server=""#
        #expect(got.contains(#"riftgate_agent_hub_connected{interface="riftgate0"} 1"#))
        #expect(got.contains(#"riftgate_agent_peers{interface="riftgate0"} 2"#))
        #expect(got.contains("riftgate_peer_connected{\(server)} 1"))
        #expect(got.contains("riftgate_peer_path_type{\(server),type=\"relayed\"} 1"))
        #expect(got.contains("riftgate_peer_path_type{\(server),type=\"host\"} 0"))
        #expect(got.contains("riftgate_peer_last_handshake_age_seconds{\(server)} 12"))
        #expect(got.contains("riftgate_peer_receive_bytes_total{\(server)} 1234"))
        #expect(got.contains("riftgate_peer_transmit_bytes_total{\(server)} 5678"))
        #expect(got.contains("riftgate_peer_ice_restarts_total{\(server)} 3"))
        #expect(got.contains("# TYPE riftgate_peer_receive_bytes_total counter"))
    }

    @Test("a peer without a handshake or a pair: no age series, every path type 0, names escaped")
    func newPeer() {
        let text = Self.status.prometheusTextfile
        let newOne = #"peer="new \"one\"""#
        let series = text.split(separator: "\n").filter { $0.contains(newOne) }
        #expect(series.contains { $0.hasPrefix("riftgate_peer_connected{") && $0.hasSuffix(" 0") })
        #expect(!series.contains { $0.hasPrefix("riftgate_peer_last_handshake_age_seconds{") })
        #expect(!series.contains { $0.hasPrefix("riftgate_peer_ice_restarts_total{") })
        #expect(series.filter { $0.hasPrefix("riftgate_peer_path_type{") }.count == 3)
        #expect(series.filter { $0.hasPrefix("riftgate_peer_path_type{") }.allSatisfy { $0.hasSuffix(" 0") })
    }

    @Test("written atomically with mode 0644, at most once per interval")
    func writesAtomicallyAndThrottles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rg-textfile-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/riftgate.prom"
        let writer = MetricsTextfile(path: path, interval: .seconds(5))
        let start = ContinuousClock.now
        #expect(writer.update(Self.status, now: start) == nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.status.prometheusTextfile)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o644)

        var changed = Self.status
        changed.peers.removeLast()
        writer.update(changed, now: start + .seconds(1))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.status.prometheusTextfile)
        writer.update(changed, now: start + .seconds(6))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == changed.prometheusTextfile)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["riftgate.prom"])
    }

    @Test("a write that fails is reported once, not at every interval")
    func failureReportedOnce() {
        let writer = MetricsTextfile(path: "/proc/riftgate-cannot-write/riftgate.prom", interval: .seconds(5))
        let start = ContinuousClock.now
        #expect(writer.update(Self.status, now: start) != nil)
        #expect(writer.update(Self.status, now: start + .seconds(10)) == nil)
    }

    @Test("promtool check metrics accepts the textfile",
          .enabled(if: promtool != nil, "promtool is missing: deploy/install-deps.sh installs the prometheus package"))
    func promtoolAccepts() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.promtool))
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(Self.status.prometheusTextfile.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool: \(report)")
        #expect(report.isEmpty, "promtool lint: \(report)")
    }
}
