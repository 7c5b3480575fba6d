@testable import RiftAgent
import RiftProtocol
import RiftSupport
import RiftTestSupport
import Testing

/// The hand-over's trial in one `PeerSession`: what confirms it, and when it falls back to forwarding.
@Suite("Mesh port hand-over trial")
struct MeshHandoverTests {
    /// Peer 1's session with peer 2, with a reflexive pair selected at time 0 (after an earlier session if `hadSession`).
    func handedOver(hadSession: Bool = false) throws -> (PeerSession, GenerationIDs) {
        var h = MeshHarness.welcomedPair()
        h.settle()
        var peer = h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!
        if hadSession { peer.handshakeAge = 30 }
        let instance = try #require(peer.instance)
        let actions = peer.pairSelected(
            instance: instance,
            local: CandidateEndpoint(kind: .serverReflexive, address: "198.51.100.1", port: 61_000,
                                     base: TransportAddress(address: "10.0.1.2", port: 45_000)),
            remote: CandidateEndpoint(kind: .serverReflexive, address: "198.51.100.2", port: 62_000), now: 0)
        guard case .configureWireGuardPeer(_, .handedOver(let handover), _, _)? = actions.last else {
            Issue.record("not handed over: \(actions)")
            throw CancellationError()
        }
        #expect(handover.local == TransportAddress(address: "10.0.1.2", port: 45_000))
        return (peer, GenerationIDs(sessionID: { "s" }))
    }

    func path(after ticks: [(now: Int64, age: Int64?, received: UInt64)], _ start: (PeerSession, GenerationIDs)) -> PeerSession {
        var (peer, ids) = start
        for tick in ticks {
            _ = peer.checkLiveness(now: tick.now, handshakeAge: tick.age, traffic: TrafficCounters(received: tick.received, sent: tick.received),
                                   ids: &ids, relayAvailable: false)
        }
        return peer
    }

    @Test("a handshake after the hand-over confirms it; it then stays handed over")
    func confirmedByHandshake() throws {
        let peer = path(after: [(1_000, nil, 0), (2_000, 0, 300), (20_000, 18, 300)], try handedOver())
        #expect(peer.path.map { if case .handedOver = $0 { true } else { false } } == true)
        #expect(!peer.handoverFailed)
    }

    @Test("received bytes without a handshake do not confirm a fresh hand-over: it falls back after 8 s, for good")
    func receivedAloneIsNotEnough() throws {
        let ticks: [(now: Int64, age: Int64?, received: UInt64)] = (1...9).map { (Int64($0) * 1_000, nil, UInt64($0) * 148) }
        var peer = path(after: Array(ticks.prefix(7)), try handedOver())
        #expect(peer.path.map { if case .handedOver = $0 { true } else { false } } == true, "still within 8 s")
        peer = path(after: ticks, try handedOver())
        #expect(peer.path == .forwarded && peer.handoverFailed)
        #expect(peer.pathReason.contains("no WireGuard traffic in 8 s"))
        // The next pair of this peer is forwarded too, saying why.
        let instance = try #require(peer.instance)
        let again = peer.pairSelected(
            instance: instance,
            local: CandidateEndpoint(kind: .serverReflexive, address: "198.51.100.1", port: 61_001,
                                     base: TransportAddress(address: "10.0.1.2", port: 45_001)),
            remote: CandidateEndpoint(kind: .serverReflexive, address: "198.51.100.2", port: 62_001), now: 10_000)
        #expect(peer.path == .forwarded && peer.pathReason.contains("earlier port hand-over"), "\(again)")
    }

    @Test("after an earlier session (an upgrade), received bytes confirm the hand-over; silence falls back after 32 s")
    func upgradeConfirmedByTraffic() throws {
        let confirmed = path(after: [(1_000, 31, 5_000), (26_000, 56, 5_032)], try handedOver(hadSession: true))
        #expect(confirmed.path.map { if case .handedOver = $0 { true } else { false } } == true && !confirmed.handoverFailed)
        let silent = path(after: (1...33).map { (Int64($0) * 1_000, 30 + Int64($0), 5_000) }, try handedOver(hadSession: true))
        #expect(silent.path == .forwarded && silent.handoverFailed)
    }
}

/// A hand-over the peer bypasses (its ICE agent selected another pair, so its datagrams reach our ICE agent).
@Suite("Mesh port hand-over bypassed by the peer")
struct MeshHandoverBypassTests {
    @Test("datagrams through the ICE agent turn the generation forwarded, at once and for the rest of the generation")
    func bypassForwardsTheGeneration() throws {
        var (peer, _) = try MeshHandoverTests().handedOver()
        let instance = try #require(peer.instance)
        #expect(peer.handoverBypassed(instance: instance + 1, now: 500).isEmpty, "another generation's report is stale")
        let actions = peer.handoverBypassed(instance: instance, now: 500)
        #expect(peer.path == .forwarded && !peer.handoverFailed, "a later generation may hand over again")
        #expect(peer.pathReason.contains("bypassed"), "\(peer.pathReason)")
        #expect(actions.contains { if case .bindForwarding(_, instance) = $0 { true } else { false } }, "\(actions)")
        #expect(actions.contains { if case .configureWireGuardPeer(_, .forwarded, instance, _) = $0 { true } else { false } })
        #expect(peer.handoverBypassed(instance: instance, now: 600).isEmpty, "already forwarded")
        // ICE re-selects (aggressive nomination) within the same generation: still forwarded.
        _ = peer.pairSelected(instance: instance,
                              local: CandidateEndpoint(kind: .peerReflexive, address: "198.51.100.1", port: 61_005,
                                                       base: TransportAddress(address: "10.0.1.2", port: 45_000)),
                              remote: CandidateEndpoint(kind: .relayed, address: "192.0.2.254", port: 50_002), now: 700)
        #expect(peer.path == .forwarded)
    }

    @Test("the runtime's watch admits every datagram and reports the first after the grace period, once")
    func watchReportsOnce() {
        let clock = ManualClock()
        let reports = Locked(0)
        let watch = HandoverBypassWatch(clock: clock, since: 0) { reports.withLock { $0 += 1 } }
        #expect(watch.admit())
        clock.advance(by: HandoverBypassWatch.grace - 1)
        #expect(watch.admit(), "every datagram goes on to WireGuard")
        #expect(reports.withLock { $0 } == 0, "leftovers from before the rules do not count as a bypass")
        clock.advance(by: 1)
        #expect(watch.admit() && watch.admit())
        #expect(reports.withLock { $0 } == 1, "reported once")
    }
}
