import Foundation
import Testing
@testable import RiftAgent

@Suite("Compact status and ping report")
struct StatusRenderingTests {
    static func peer(_ name: String, ipv4: String, state: AgentStatus.PeerState, type: AgentStatus.PathType?,
                     mode: AgentStatus.PathMode?, handshake: Int64?, rx: UInt64 = 0, tx: UInt64 = 0,
                     recovery: String? = nil) -> AgentStatus.Peer {
        AgentStatus.Peer(
            name: name, publicKey: "key-\(name)=", ipv4: ipv4, ipv6: "fd00::\(name.count)", state: state, pathType: type,
            pathMode: mode, pathReason: "reason-\(name)", localCandidate: type == nil ? nil : "relay 198.51.100.1:40000",
            remoteCandidate: type == nil ? nil : "srflx 203.0.113.7:51820", endpoint: nil, lastHandshakeSecondsAgo: handshake,
            rxBytes: rx, txBytes: tx, iceState: .ready, lastRecoveryReason: recovery, iceRestarts: nil)
    }

    static func status(_ peers: [AgentStatus.Peer]) -> AgentStatus {
        AgentStatus(name: "laptop", publicKey: "self=", network: "home", interface: "rg0", ipv4: "100.64.0.1", ipv6: nil,
                    listenPort: 51820, backend: "kernel", hub: .init(url: "wss://hub", state: .connected, lastError: nil),
                    peers: peers)
    }

    @Test("one aligned line per peer with name, address, state, path, handshake age and bytes")
    func compactTable() {
        let text = Self.status([
            Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .host, mode: .direct, handshake: 75,
                      rx: 1536, tx: 3 * 1024 * 1024),
            Self.peer("nas", ipv4: "100.64.0.10", state: .ice(.connecting), type: nil, mode: nil, handshake: nil, rx: 12),
        ]).compactText
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "laptop 100.64.0.1 on rg0, network home, hub connected")
        #expect(lines[1].hasPrefix("PEER    ADDRESS      STATE       PATH         HANDSHAKE  RX"))
        #expect(lines[2] == "server  100.64.0.2   connected   host/direct  1m15s      1.5 KiB  3.0 MiB")
        #expect(lines[3] == "nas     100.64.0.10  connecting  -            never      12 B     0 B")
        #expect(!text.contains("key-server="), "keys belong to --verbose")
    }

    @Test("no peers, hub error")
    func compactEmpty() {
        var status = Self.status([])
        status.hub = .init(url: "wss://hub", state: .disconnected, lastError: "connection refused")
        #expect(status.compactText == "laptop 100.64.0.1 on rg0, network home, hub disconnected (connection refused)\nno other peers")
    }

    @Test("ages and byte counts")
    func units() {
        #expect(AgentStatus.age(0) == "0s")
        #expect(AgentStatus.age(59) == "59s")
        #expect(AgentStatus.age(3600 + 120) == "1h2m")
        #expect(AgentStatus.age(3 * 86_400 + 5) == "3d")
        #expect(AgentStatus.bytes(1023) == "1023 B")
        #expect(AgentStatus.bytes(1024) == "1.0 KiB")
        #expect(AgentStatus.bytes(5 * 1024 * 1024 * 1024) == "5.0 GiB")
    }

    @Test("a target is a peer name or one of its overlay addresses; anything else names the known peers")
    func lookup() throws {
        let status = Self.status([Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .host, mode: .direct, handshake: 1)])
        #expect(try status.peer(named: "server").name == "server")
        #expect(try status.peer(named: "100.64.0.2").name == "server")
        #expect(try status.peer(named: "fd00::6").name == "server")
        do {
            _ = try status.peer(named: "printer")
            Issue.record("an unknown peer was found")
        } catch {
            #expect("\(error)".contains("unknown peer printer"))
            #expect("\(error)".contains("known peers: server"))
        }
    }

    @Test("a relayed pong names the pair and says why it is relayed")
    func relayedReport() {
        let peer = Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .relayed, mode: .forwarded, handshake: 3,
                             recovery: "ICE failed: no pair succeeded")
        let report = PingReport(peer: peer, probes: [.init(sequence: 1, rttMs: 12.345)])
        #expect(report.text == """
            pong from server (100.64.0.2) via relayed (local relay 198.51.100.1:40000 ⇄ remote srflx 203.0.113.7:51820), \
            WireGuard forwarded in 12.3 ms
            relayed because: ICE failed: no pair succeeded
            """)
        var withoutRecovery = report
        withoutRecovery.lastRecoveryReason = nil
        #expect(withoutRecovery.relayReason == "reason-server")
    }

    @Test("a direct path is called direct, with no reason; several probes get a summary; lost probes are said")
    func directReportWithLoss() {
        let peer = Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .host, mode: .direct, handshake: 3,
                             recovery: "an old recovery")
        let report = PingReport(peer: peer, probes: [.init(sequence: 1, rttMs: 0.5), .init(sequence: 2, rttMs: nil),
                                                     .init(sequence: 3, rttMs: 150.4)])
        let lines = report.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("pong from server (100.64.0.2) via direct (local"))
        #expect(lines[0].hasSuffix("in 0.50 ms"))
        #expect(lines[1] == "no reply from server (100.64.0.2) to echo 2")
        #expect(lines[3] == "3 sent, 2 received, rtt min/avg/max 0.50 ms/75.5 ms/150 ms")
        #expect(report.relayReason == nil && report.answered)
    }

    @Test("JSON carries the path and each probe in snake case")
    func reportJSON() throws {
        let peer = Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .serverReflexive, mode: .forwarded, handshake: 3)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(PingReport(peer: peer, probes: [.init(sequence: 1, rttMs: nil)]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["path_type"] as? String == "server-reflexive")
        #expect(object["local_candidate"] as? String == "relay 198.51.100.1:40000")
        let probes = try #require(object["probes"] as? [[String: Any]])
        #expect(probes.count == 1 && probes[0]["sequence"] as? Int == 1)
    }

    @Test("a peer that keeps failing gets a hint after two attempts in a row, which names what to check; none while the hub is away")
    func unreachableHint() {
        #expect(PeerHint.text(failedAttempts: 0, hubConnected: true, relayOffered: false) == nil)
        #expect(PeerHint.text(failedAttempts: 1, hubConnected: true, relayOffered: false) == nil)
        #expect(PeerHint.text(failedAttempts: 5, hubConnected: false, relayOffered: false) == nil)
        let noRelay = PeerHint.text(failedAttempts: 2, hubConnected: true, relayOffered: false) ?? ""
        #expect(noRelay.hasPrefix("no path after 2 attempts in a row, and the hub offers no TURN relay"))
        #expect(noRelay.contains("riftgate netcheck") && noRelay.contains("Symmetric NAT and TURN"))
        let relay = PeerHint.text(failedAttempts: 3, hubConnected: true, relayOffered: true) ?? ""
        #expect(relay.hasPrefix("no path after 3 attempts in a row, not even through the TURN relay"))

        var failing = Self.peer("nas", ipv4: "100.64.0.10", state: .ice(.failed), type: nil, mode: nil, handshake: nil)
        failing.hint = noRelay
        let status = Self.status([Self.peer("server", ipv4: "100.64.0.2", state: .connected, type: .host, mode: .direct,
                                            handshake: 1), failing])
        let compact = status.compactText.split(separator: "\n").map(String.init)
        #expect(compact.last == "nas: \(noRelay)", "after the table, one line per peer with a hint")
        #expect(compact.filter { $0.contains("hint") || $0.hasPrefix("server:") }.isEmpty)
        #expect(status.text.contains("\n    hint: \(noRelay)"))
        let report = PingReport(peer: failing, probes: [.init(sequence: 1, rttMs: nil)])
        #expect(report.text == "no reply from nas (100.64.0.10) to echo 1\nhint: \(noRelay)")
    }

    @Test("the echo checksum is RFC 1071's")
    func checksum() {
        // An echo request with identifier 1, sequence 1 and no payload: 0x0800 + 0x0001 + 0x0001 → ~0x0802.
        #expect(ICMPEcho.checksum([8, 0, 0, 0, 0, 1, 0, 1]) == 0xf7fd)
        #expect(ICMPEcho.checksum([8, 0, 0, 0, 0, 1, 0]) == 0xf7fe)
    }
}
