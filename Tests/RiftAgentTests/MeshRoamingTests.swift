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
        #expect(actions.contains { if case .startICE(_, _, true, false) = $0 { true } else { false } })
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

    @Test("a resume starts afresh with every peer, healthy or not")
    func resume() {
        var h = MeshHarness.connectedPair()
        let actions = h.send(.resumed(reason: "resumed after 60 s away"), to: 1)
        #expect(actions.contains { if case .startICE = $0 { true } else { false } })
        h.settle()
        #expect(reconfigured(h.all(2)))
    }
}
