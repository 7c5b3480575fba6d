@testable import RiftAgent
import RiftProtocol
import Testing

@Suite("Mesh roaming: network changes and resumes")
struct MeshRoamingTests {
    func signals(_ actions: [MeshAction], _ kind: SignalKind) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == kind { p } else { nil } }
    }

    func reconfigured(_ actions: [MeshAction]) -> Bool {
        actions.contains { if case .configureWireGuardPeer = $0 { true } else { false } }
    }

    @Test("the controlled side loses its host pair's address: it asks afresh, the other side re-offers at once, no failure counted")
    func controlledSideMoves() throws {
        var h = MeshHarness.connectedPair()
        let asked = h.send(.underlayChanged(vanished: ["192.0.2.2"], appeared: ["192.0.2.102"], routeChanged: false), to: 2)
        let restart = try #require(signals(asked, .restart).first)
        #expect(restart.session == "none", "no failure of the peer's: answered at once")
        h.settle()
        let offers = signals(h.all(1), .offer)
        #expect(offers.count == 1 && offers[0].generation == 1 && offers[0].relayOnly == false)
        #expect(reconfigured(h.all(2)))
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.recovery.attempts == 0)
    }

    @Test("the controlling side loses its address: it offers a new generation itself, not relay-only")
    func controllingSideMoves() {
        var h = MeshHarness.connectedPair()
        let actions = h.send(.underlayChanged(vanished: ["192.0.2.1"], appeared: [], routeChanged: false), to: 1)
        #expect(actions.contains { if case .startICE(_, _, true, .all) = $0 { true } else { false } })
        h.settle()
        #expect(signals(h.all(1), .offer).first?.generation == 1)
        #expect(reconfigured(h.all(1)) && reconfigured(h.all(2)))
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.lastRecoveryReason?.contains("192.0.2.1 gone") == true)
    }

    @Test("an untouched host pair is kept when other addresses come and go or a default route changes")
    func untouchedHostPair() {
        var h = MeshHarness.connectedPair()
        #expect(h.send(.underlayChanged(vanished: ["10.9.9.9"], appeared: ["10.1.1.1"], routeChanged: true), to: 1).isEmpty)
        #expect(h.send(.underlayChanged(vanished: ["10.9.9.9"], appeared: [], routeChanged: false), to: 2).isEmpty)
    }

    @Test("a forwarded (server-reflexive) pair starts afresh on a route change: its NAT mapping may be new")
    func forwardedPairOnRouteChange() {
        var h = MeshHarness.connectedPair(pairKind: .serverReflexive)
        let actions = h.send(.underlayChanged(vanished: [], appeared: [], routeChanged: true), to: 1)
        #expect(actions.contains { if case .startICE = $0 { true } else { false } })
    }

    @Test("while the hub is away the fresh start waits for the next welcome, so the request is not lost")
    func waitsForTheHub() {
        var h = MeshHarness.connectedPair()
        h.send(.hubDisconnected, to: 2)
        #expect(h.send(.underlayChanged(vanished: ["192.0.2.2"], appeared: [], routeChanged: false), to: 2).isEmpty)
        let welcomed = h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        #expect(signals(welcomed, .restart).first?.session == "none")
        h.settle()
        #expect(signals(h.all(1), .offer).first?.generation == 1)
    }

    @Test("a negotiation under way when the hub connection was lost starts again with the next welcome")
    func negotiationInterruptedByTheHub() throws {
        var h = MeshHarness.connectedPair()
        let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: .failed), to: 1)
        let restarted = h.send(.tick(nowMilliseconds: 61_000, handshakeAge: [MeshHarness.key(2): 3]), to: 1)
        #expect(restarted.contains { if case .startICE = $0 { true } else { false } })
        h.actions = [:]  // the offer went to a connection that was already dead: lost
        h.send(.hubDisconnected, to: 1)
        let welcomed = h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        #expect(welcomed.contains { if case .startICE = $0 { true } else { false } }, "negotiated again at once")
        h.settle()
        #expect(reconfigured(h.all(2)), "the peer got the new offer and the pair was selected")
    }

    @Test("a generation that stalls while WireGuard keeps an older path is retried at its deadline")
    func stalledGenerationBesideAnOlderPath() throws {
        var h = MeshHarness.connectedPair()
        let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: .failed), to: 1)
        h.send(.tick(nowMilliseconds: 61_000, handshakeAge: [MeshHarness.key(2): 3]), to: 1)
        h.actions = [:]  // lost offer; the old handshake stays fresh, as WireGuard's does for minutes
        let before = h.send(.tick(nowMilliseconds: 61_000 + PeerSession.negotiationDeadline, handshakeAge: [MeshHarness.key(2): 18]), to: 1)
        #expect(!before.contains { if case .startICE = $0 { true } else { false } }, "not before the deadline")
        let after = h.send(.tick(nowMilliseconds: 62_000 + PeerSession.negotiationDeadline, handshakeAge: [MeshHarness.key(2): 19]), to: 1)
        #expect(after.contains { if case .startICE = $0 { true } else { false } })
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.lastRecoveryReason == "negotiation did not finish")
        h.settle()
        #expect(reconfigured(h.all(2)))
    }

    @Test("a resume starts afresh with every peer, healthy or not")
    func resume() {
        var h = MeshHarness.connectedPair()
        let actions = h.send(.resumed(reason: "resumed after 60 s away"), to: 1)
        #expect(actions.contains { if case .startICE = $0 { true } else { false } })
        h.settle()
        #expect(reconfigured(h.all(2)))
    }

    @Test("a flapping link starts each peer afresh at most once per two seconds; the last change is not lost")
    func flappingIsBounded() {
        var h = MeshHarness.connectedPair()
        var starts = 0
        for step in 0..<10 {  // a change every 400 ms for 4 s
            let now: Int64 = 60_000 + Int64(step) * 400
            let changed = h.send(.underlayChanged(vanished: step % 2 == 0 ? ["192.0.2.1"] : [], appeared: step % 2 == 0 ? [] : ["192.0.2.1"],
                                                  routeChanged: false), to: 1)
            let ticked = h.send(.tick(nowMilliseconds: now, handshakeAge: [MeshHarness.key(2): 3]), to: 1)
            starts += (changed + ticked).filter { if case .startICE = $0 { true } else { false } }.count
        }
        #expect(starts == 2, "\(starts) new generations in 4 s")
        #expect(!h.meshes[MeshHarness.key(1)]!.freshStartsAwaitingWindow.isEmpty, "the last changes wait for the window")
        let later = h.send(.tick(nowMilliseconds: 70_000, handshakeAge: [MeshHarness.key(2): 3]), to: 1)
        #expect(later.contains { if case .startICE = $0 { true } else { false } })
        #expect(h.meshes[MeshHarness.key(1)]!.freshStartsAwaitingWindow.isEmpty)
    }
}
