import Foundation
@testable import RiftAgent
import RiftProtocol
import RiftTURN
import Testing

@Suite("netcheck: TURN results and the verdict")
struct NetcheckTURNTests {
    private func report(udp: Bool, mapping: String, turn: [String]?) -> NetcheckReport {
        var report = NetcheckReport(hub: "hub.example", stunPort: 3478, alternatePort: 3479)
        if udp {
            var family = NetcheckFamily(server: "192.0.2.1 port 3478")
            family.reachable = true
            family.translated = true
            family.mapping = mapping
            report.ipv4 = family
        } else {
            report.ipv4 = NetcheckFamily(server: "192.0.2.1 port 3478")
        }
        report.turnServers = turn.map { results in
            results.enumerated().map { NetcheckTURNServer(url: "turn:relay\($0.offset):3478", transport: "udp", result: $0.element) }
        }
        report.conclude()
        return report
    }

    @Test("symmetric NAT with a reachable relay: expect relay, relay available")
    func expectRelayAvailable() {
        let result = report(udp: true, mapping: "endpoint-dependent", turn: ["unreachable", "reachable"])
        #expect(result.turn == "reachable")
        #expect(result.verdict.hasPrefix("expect relay (") && result.verdict.hasSuffix("; relay available: TURN allocation succeeded"))
        #expect(result.text.contains("TURN: reachable\n  turn:relay0:3478: unreachable\n  turn:relay1:3478: reachable"))
    }

    @Test("symmetric NAT, credentials refused: connections through hard NATs will fail")
    func expectRelayAuthFailed() {
        let result = report(udp: true, mapping: "endpoint-dependent", turn: ["auth failed"])
        #expect(result.turn == "auth failed")
        #expect(result.verdict.hasSuffix("; relay unavailable (TURN auth failed): connections through hard NATs will fail"))
    }

    @Test("UDP blocked and TURN unreachable: connections will fail; no TURN server: says so")
    func blocked() {
        #expect(report(udp: false, mapping: "unknown", turn: ["unreachable"]).verdict
            .hasSuffix("; relay unavailable (TURN unreachable): connections will fail"))
        let none = report(udp: false, mapping: "unknown", turn: [])
        #expect(none.turn == "none offered" && none.verdict.hasSuffix("(the hub offers no TURN server): connections will fail"))
    }

    @Test("a cone NAT keeps its verdict and learns about the fallback; TURN not checked changes nothing")
    func cone() {
        let checked = report(udp: true, mapping: "endpoint-independent", turn: ["reachable"])
        #expect(checked.verdict.hasPrefix("direct connections likely") && checked.verdict.hasSuffix("; relay available as a fallback"))
        let unchecked = report(udp: true, mapping: "endpoint-independent", turn: nil)
        #expect(unchecked.verdict == "direct connections likely (the NAT keeps one mapping for every destination)")
        #expect(unchecked.turn == "not checked" && unchecked.turnServers == nil)
    }

    @Test("the JSON names the servers and results; the credential never appears in the report")
    func json() throws {
        let result = report(udp: true, mapping: "endpoint-dependent", turn: ["reachable"])
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(text.contains(#""turn_servers":[{"#) && text.contains(#""result":"reachable""#))
        let set = TURNCredentialSet(TURNServer(urls: ["turn:x:3478"], username: "9:key", credential: "s3cret", expiresAt: 9))
        #expect(!"\(set)".contains("s3cret"))
    }

    @Test("probing: a closed UDP port and a closed TCP port are unreachable; turns: is not probed")
    func probeClosedPorts() {
        let set = TURNCredentialSet(TURNServer(urls: ["turn:127.0.0.1:9?transport=udp", "turn:127.0.0.1:9?transport=tcp",
                                                      "turns:127.0.0.1:5349"],
                                               username: "9:key", credential: "c", expiresAt: 9))
        let results = TURNReachability.check([set, set], stepTimeout: 2)
        #expect(results.map(\.result) == ["unreachable", "unreachable", "not probed"], "\(results)")
        #expect(results.map(\.transport) == ["udp", "tcp", "tls"])
    }
}
