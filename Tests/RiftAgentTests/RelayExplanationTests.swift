@testable import RiftAgent
import RiftProtocol
import Testing

@Suite("Why a path is relayed: candidate tallies and the explanation")
struct RelayExplanationTests {
    @Test("candidate lines are counted by typ; lines that do not parse are ignored")
    func tally() {
        var tally = CandidateTally()
        tally.count(line: "candidate:1 1 UDP 2130706431 192.0.2.1 4000 typ host")
        tally.count(line: "a=candidate:2 1 UDP 1694498815 203.0.113.7 61000 typ srflx raddr 192.0.2.1 rport 4000")
        tally.count(line: "candidate:3 1 UDP 16777215 203.0.113.9 50000 typ relay raddr 203.0.113.7 rport 61000")
        tally.count(line: "candidate:4 1 UDP 16777215 203.0.113.9 50001 typ relay raddr 203.0.113.7 rport 61000")
        tally.count(line: "garbage")
        #expect(tally == CandidateTally(host: 1, serverReflexive: 1, relayed: 2))
        #expect(tally.text == "1 host, 1 srflx, 2 relay")
        #expect(CandidateTally().text == "none")
    }

    @Test("the peer offered relays only; no reflexive candidate here although the hub gave a STUN server")
    func relayOnlyPeer() {
        let text = RelayExplanation(local: CandidateTally(host: 1, relayed: 1, complete: true), remote: CandidateTally(relayed: 1, complete: true),
                                    relayOnly: false, controlling: true, failedAttempts: 0, hasReflexiveSource: true).text
        #expect(text == "peer offered relay candidates only; no server-reflexive candidate here: UDP to STUN blocked or filtered; "
                + "candidates local 1 host, 1 relay, remote 1 relay")
    }

    @Test("both sides had reflexive candidates and the direct checks still failed: a NAT that maps per destination")
    func symmetricNATs() {
        let text = RelayExplanation(local: CandidateTally(host: 1, serverReflexive: 1, relayed: 1, complete: true),
                                    remote: CandidateTally(host: 2, serverReflexive: 1, relayed: 1, complete: true),
                                    relayOnly: false, controlling: false, failedAttempts: 0, hasReflexiveSource: true).text
        #expect(text.hasPrefix("direct checks failed: 6 pairs of non-relay candidates tried (a NAT maps per destination?); "))
        #expect(!text.contains("server-reflexive candidate"))
    }

    @Test("no reflexive candidate is blamed on STUN only once gathering finished, and only when a STUN/TURN server exists")
    func gatheringNotDone() {
        let partial = RelayExplanation(local: CandidateTally(host: 1), remote: CandidateTally(host: 1, serverReflexive: 1),
                                       relayOnly: false, controlling: true, failedAttempts: 0, hasReflexiveSource: true).text
        #expect(!partial.contains("UDP to STUN blocked"))
        let noServer = RelayExplanation(local: CandidateTally(host: 1, complete: true), remote: CandidateTally(host: 1, serverReflexive: 1),
                                        relayOnly: false, controlling: true, failedAttempts: 0, hasReflexiveSource: false).text
        #expect(!noServer.contains("UDP to STUN blocked"))
    }

    @Test("a relay-only generation says who forced it and after how many failures")
    func forced() {
        let controlling = RelayExplanation(local: CandidateTally(relayed: 1), remote: CandidateTally(relayed: 1), relayOnly: true,
                                           controlling: true, failedAttempts: 3, hasReflexiveSource: true).text
        #expect(controlling == "relay forced after 3 failed attempts to connect; candidates local 1 relay, remote 1 relay")
        let controlled = RelayExplanation(local: CandidateTally(relayed: 1), remote: CandidateTally(relayed: 1), relayOnly: true,
                                          controlling: false, failedAttempts: 0, hasReflexiveSource: true).text
        #expect(controlled.hasPrefix("the peer asked for relay candidates only"))
    }

    @Test("through the mesh: a relayed first attempt explains itself from the candidates signaled; a host pair has no reason")
    func meshRelayedFirstAttempt() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle(pairKind: .relayed)
        let session = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)])
        let reason = try #require(session.relayReason(hasReflexiveSource: true))
        // The harness gathers one host candidate per side and nothing else.
        #expect(reason.contains("direct checks failed: 1 pair of non-relay candidates tried"), "\(reason)")
        #expect(reason.contains("the peer has no server-reflexive candidate"), "\(reason)")
        #expect(reason.hasSuffix("candidates local 1 host, remote 1 host"), "\(reason)")

        let direct = MeshHarness.connectedPair()
        #expect(direct.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.relayReason(hasReflexiveSource: true) == nil)
    }

    @Test("through the mesh: after repeated failures the controlling side forces the relay and says so")
    func meshForcedRelay() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle()
        var now: Int64 = 0
        for _ in 0..<3 {
            let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
            h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: .failed), to: 1)
            now += 100_000
            h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 1)
            h.settle(pairKind: .relayed)
        }
        let controlling = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)])
        #expect(controlling.relayOnly)
        #expect(controlling.relayReason(hasReflexiveSource: true)?.hasPrefix("relay forced after 3 failed attempts to connect") == true)
        let controlled = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)])
        #expect(controlled.relayReason(hasReflexiveSource: true)?.hasPrefix("the peer asked for relay candidates only") == true)
    }
}
