@testable import RiftAgent
import RiftProtocol
import Testing

/// Getting off the relay: the controlling side retries a normal generation now and then, and both sides keep the
/// relayed session carrying traffic until the new generation has selected a pair (make before break).
@Suite("Mesh relay upgrade")
struct MeshUpgradeTests {
    static let a = MeshHarness.key(1)  // controlling (smaller key)
    static let b = MeshHarness.key(2)

    /// Two meshes connected over a relayed pair, both with a fresh handshake at `now`.
    func relayedPair(now: Int64 = 1_000) -> MeshHarness {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle(pairKind: .relayed)
        h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 1]), to: 1)
        h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.a: 1]), to: 2)
        h.actions = [:]
        return h
    }

    func session(_ h: MeshHarness, _ seed: UInt8, _ peer: PublicKey) -> PeerSession {
        h.meshes[MeshHarness.key(seed)]!.peers[peer]!
    }

    /// Ticks A (healthy) until it starts an upgrade generation; returns that tick's actions and the time.
    func tickUntilUpgrade(_ h: inout MeshHarness, from start: Int64) -> ([MeshAction], Int64) {
        var now = start
        for _ in 0..<400 {
            now += 1_000
            let actions = h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 1]), to: 1)
            if !actions.isEmpty { return (actions, now) }
        }
        return ([], now)
    }

    @Test("on a relayed pair the controlling side tries a new generation within 30 s, without closing the relay")
    func attemptsUpgrade() throws {
        var h = relayedPair()
        let relayed = try #require(session(h, 1, Self.b).instance)
        let (actions, at) = tickUntilUpgrade(&h, from: 1_000)
        #expect(at - 1_000 <= 31_000, "first attempt within about 30 s")
        #expect(actions.contains { if case .startICE(_, _, true, .withoutOwnRelay) = $0 { true } else { false } })
        #expect(!actions.contains(.closeICE(peer: Self.b, instance: relayed)), "the relay keeps carrying traffic")
        let upgrading = session(h, 1, Self.b)
        #expect(upgrading.standby?.instance == relayed && upgrading.instance != relayed)
        #expect(upgrading.activePair?.local.kind == .relayed, "status still shows the pair in use")
        // It looks for a pair off the relay: no relayed candidate of ours (a relay-to-relay pair would be a step down).
        #expect(upgrading.current?.seeksPathOffRelay == true && upgrading.standby?.seeksPathOffRelay == false)
    }

    @Test("a generation started to recover gathers everything; only a try off the relay leaves our relay out")
    func recoveryKeepsRelay() throws {
        var h = relayedPair()
        let relayed = try #require(session(h, 1, Self.b).instance)
        h.send(.iceState(peer: Self.b, instance: relayed, state: .failed), to: 1)
        var now: Int64 = 1_000
        while session(h, 1, Self.b).instance == relayed, now < 10_000 {
            now += 250
            h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 1]), to: 1)
        }
        let recovering = session(h, 1, Self.b)
        #expect(recovering.instance != relayed, "no recovery generation within 9 s")
        #expect(recovering.current?.seeksPathOffRelay == false)
    }

    @Test("both sides switch WireGuard to the new pair first, then close the relayed session")
    func makeBeforeBreak() throws {
        var h = relayedPair()
        let relayedA = try #require(session(h, 1, Self.b).instance)
        let relayedB = try #require(session(h, 2, Self.a).instance)
        _ = tickUntilUpgrade(&h, from: 1_000)
        h.settle(pairKind: .serverReflexive)
        for (seed, peer, old) in [(UInt8(1), Self.b, relayedA), (2, Self.a, relayedB)] {
            let actions = h.all(seed)
            let configured = try #require(actions.firstIndex { if case .configureWireGuardPeer = $0 { true } else { false } })
            let closed = try #require(actions.firstIndex(of: .closeICE(peer: peer, instance: old)), "side \(seed) closes the relay")
            #expect(configured < closed, "side \(seed) reconfigures WireGuard before closing the old session")
            #expect(!actions.contains { if case .closeICE(_, let instance) = $0 { instance != old } else { false } })
            let now = session(h, seed, peer)
            #expect(now.standby == nil && now.activePair?.local.kind == .serverReflexive)
        }
    }

    @Test("a failed attempt closes the new session and keeps the relay; the next attempt waits longer")
    func failedAttemptKeepsRelay() throws {
        var h = relayedPair()
        let relayed = try #require(session(h, 1, Self.b).instance)
        let (_, first) = tickUntilUpgrade(&h, from: 1_000)
        let attempt = try #require(session(h, 1, Self.b).instance)
        let reverted = h.send(.iceState(peer: Self.b, instance: attempt, state: .failed), to: 1)
        #expect(reverted == [.closeICE(peer: Self.b, instance: attempt)])
        let after = session(h, 1, Self.b)
        #expect(after.instance == relayed && after.standby == nil && after.activePair?.local.kind == .relayed)
        #expect(after.path == .forwarded)
        let (again, second) = tickUntilUpgrade(&h, from: first)
        #expect(!again.isEmpty && second - first > 15_000, "backoff: the second attempt comes later")
    }

    @Test("an attempt that selects no pair within the negotiation deadline is given up")
    func attemptTimesOut() throws {
        var h = relayedPair()
        let relayed = try #require(session(h, 1, Self.b).instance)
        let (_, start) = tickUntilUpgrade(&h, from: 1_000)
        let attempt = try #require(session(h, 1, Self.b).instance)
        var closed: [MeshAction] = []
        for second in 1...20 {
            closed += h.send(.tick(nowMilliseconds: start + Int64(second) * 1_000, handshakeAge: [Self.b: 1]), to: 1)
        }
        #expect(closed.contains(.closeICE(peer: Self.b, instance: attempt)))
        #expect(session(h, 1, Self.b).instance == relayed)
    }

    /// Gives side 1's newest ICE session (started in `actions`) its credentials and delivers the offer that follows to
    /// side 2; returns side 2's actions.
    func deliverOffer(_ h: inout MeshHarness, startedBy actions: [MeshAction]) throws -> [MeshAction] {
        let instance = try #require(actions.compactMap { if case .startICE(_, let i, true, _) = $0 { i } else { nil } }.last)
        let offered = h.send(.iceStarted(peer: Self.b, instance: instance, ufrag: "u\(instance)", pwd: "p\(instance)"), to: 1)
        let offer = try #require(offered.compactMap { if case .sendSignal(let p) = $0, p.kind == .offer { p } else { nil } }.first)
        return h.send(.signal(offer), to: 2)
    }

    /// The scope of the ICE session side 2 starts in `actions`.
    func controlledScope(_ actions: [MeshAction]) -> ICECandidateScope? {
        actions.compactMap { if case .startICE(_, _, false, let scope) = $0 { scope } else { nil } }.last
    }

    @Test("the controlled side leaves its relay out of a try off the relay it did not ask for, keeping the relayed pair")
    func controlledSideLeavesItsRelayOut() throws {
        var h = relayedPair()
        let relayedB = try #require(session(h, 2, Self.a).instance)
        let (actions, _) = tickUntilUpgrade(&h, from: 1_000)
        let answered = try deliverOffer(&h, startedBy: actions)
        // A pair on B's relay would only move the tunnel from one relayed pair to another (seen in the bench: the relay
        // owner changing sides during a measurement).
        #expect(controlledScope(answered) == .withoutOwnRelay)
        let b = session(h, 2, Self.a)
        #expect(b.standby?.instance == relayedB && b.current?.seeksPathOffRelay == true)
        #expect(!b.holdsRelayCandidates, "nothing to hold: no relayed candidate is gathered")
        #expect(!answered.contains(.closeICE(peer: Self.a, instance: relayedB)))
    }

    @Test("a generation the controlled side asked for, its network having changed, gathers its relay too")
    func askedGenerationGathersEverything() throws {
        var h = relayedPair()
        h.send(.tick(nowMilliseconds: 10_000, handshakeAge: [Self.b: 1]), to: 1)
        h.send(.tick(nowMilliseconds: 10_000, handshakeAge: [Self.a: 1]), to: 2)
        let asked = h.send(.underlayChanged(vanished: [], appeared: ["192.0.2.102"], routeChanged: true), to: 2)
        let restart = try #require(asked.compactMap { if case .sendSignal(let p) = $0, p.kind == .restart { p } else { nil } }.first)
        let started = h.send(.signal(restart), to: 1)
        let answered = try deliverOffer(&h, startedBy: started)
        #expect(controlledScope(answered) == .all)
        #expect(session(h, 2, Self.a).current?.seeksPathOffRelay == false)
        #expect(session(h, 2, Self.a).holdsRelayCandidates, "the usual 1 s hold of a normal generation")
    }

    @Test("off a relay the controlled side gathers everything in a new normal generation")
    func controlledSideOffRelayGathersEverything() throws {
        var h = MeshHarness.connectedPair(pairKind: .serverReflexive)
        let restarted = h.send(.iceState(peer: Self.b, instance: try #require(session(h, 1, Self.b).instance),
                                         state: .failed), to: 1)
        var started = restarted
        var now: Int64 = 60_000
        while !started.contains(where: { if case .startICE = $0 { true } else { false } }), now < 80_000 {
            now += 250
            started += h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 1]), to: 1)
        }
        let answered = try deliverOffer(&h, startedBy: started)
        #expect(controlledScope(answered) == .all)
    }

    @Test("off the relay nothing is retried")
    func directIsLeftAlone() {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle(pairKind: .serverReflexive)
        for second in 1...400 {
            #expect(h.send(.tick(nowMilliseconds: Int64(second) * 1_000, handshakeAge: [Self.b: 1]), to: 1).isEmpty)
        }
    }
}
