import Testing
@testable import RiftAgent

@Suite("Candidate lines")
struct CandidateLineTests {
    @Test("address, port and type of a line, with or without a=, with extra spaces and trailing attributes")
    func parses() throws {
        let relay = try #require(CandidateLine("candidate:3 1 UDP 16777215 203.0.113.9 50000 typ relay raddr 203.0.113.7 rport 61000"))
        #expect(relay.address == "203.0.113.9" && relay.port == 50000 && relay.type == "relay" && relay.isRelayed && !relay.isHost)
        let host = try #require(CandidateLine("a=candidate:1  1 udp 2130706431 fd00::5  4000 typ host"))
        #expect(host.address == "fd00::5" && host.port == 4000 && host.isHost)
    }

    @Test("lines without the fixed fields are refused", arguments: [
        "",
        "candidate:1 1 udp 2130706431 192.0.2.1 4000 typ",           // no type
        "candidate:1 1 udp 2130706431 192.0.2.1 4000 type host",     // not `typ`
        "candidate:1 1 udp 2130706431 192.0.2.1 70000 typ host",     // port out of range
        "candidate:1 1 udp 2130706431 192.0.2.1 x typ host",         // port not a number
        "1 1 udp 2130706431 192.0.2.1 4000 typ host",                // no `candidate:`
    ])
    func refuses(line: String) {
        #expect(CandidateLine(line) == nil)
    }

    @Test("every reader agrees: host endpoint, relay check and tally read the same line the same way")
    func readersAgree() {
        let host = "candidate:1 1 udp 2130706431   192.0.2.1 4000 typ host"
        #expect(HostEndpoint(hostCandidate: host)?.address == "192.0.2.1")
        #expect(!PeerSession.isRelayed(host))
        var tally = CandidateTally()
        tally.count(line: host)
        tally.count(line: "candidate:3 1 UDP 16777215 203.0.113.9 50000 typ relay raddr 203.0.113.7 rport 61000")
        tally.count(line: "candidate:9 1 UDP 1 203.0.113.9 typ relay")  // too short: not counted
        #expect(tally.host == 1 && tally.relayed == 1)
    }
}
