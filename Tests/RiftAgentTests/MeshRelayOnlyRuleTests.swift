@testable import RiftAgent
import RiftProtocol
import Testing

/// When the controlling side makes a generation relay-only after failures (`PeerSession.relayOnlyAfter(failures:)`):
/// right after the first, so a pair that only the relay connects waits for one failed generation, not three; and a
/// tunnel that came up that way still tries a direct pair later.
@Suite("Mesh relay-only rule")
struct MeshRelayOnlyRuleTests {
    static let a = MeshHarness.key(1)  // controlling (smaller key)
    static let b = MeshHarness.key(2)

    func offers(_ actions: [MeshAction]) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == .offer { p } else { nil } }
    }

    /// Two meshes whose first generation has exchanged descriptions; TURN known to both when `turn`.
    func negotiating(turn: Bool) -> MeshHarness {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: turn)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: turn)), to: 2)
        h.settle()
        return h
    }

    /// At `now` (rounds under 20 s apart, so the controlling side's own handshake deadline stays quiet), the controlled
    /// side sees its generation fail and asks for a restart, which the controlling side answers.
    func failOnControlledSide(_ h: inout MeshHarness, now: Int64) throws {
        h.actions = [:]
        let instance = try #require(h.meshes[Self.b]!.peers[Self.a]!.instance)
        h.send(.iceState(peer: Self.a, instance: instance, state: .failed), to: 2)
        h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 2)
        h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 1)  // the controlling side's clock moves on too
        h.settle(pairKind: .relayed)
    }

    @Test("the generation after the first failure is relay-only; from then on mixed and relay-only alternate")
    func rule() {
        #expect((1...6).map(PeerSession.relayOnlyAfter(failures:)) == [true, false, true, false, true, false])
    }

    @Test("one failed generation: the next offer is relay-only and the controlled side gathers relays only")
    func relayOnlyAfterOneFailure() throws {
        var h = negotiating(turn: true)
        try failOnControlledSide(&h, now: 19_000)
        #expect(offers(h.all(1)).map(\.relayOnly) == [true])
        #expect(h.all(2).contains { if case .startICE(_, _, false, .relayOnly) = $0 { true } else { false } })
        #expect(h.meshes[Self.a]!.peers[Self.b]!.relayReason(hasReflexiveSource: true)?
            .hasPrefix("relay forced after 1 failed attempt to connect") == true)
    }

    @Test("without a TURN server no generation is relay-only, however many fail")
    func noRelayWithoutTURN() throws {
        var h = negotiating(turn: false)
        var offered: [Bool] = []
        for round in 1...3 {
            try failOnControlledSide(&h, now: Int64(round) * 19_000)
            offered += offers(h.all(1)).map(\.relayOnly)
        }
        #expect(offered == [false, false, false])
    }

    @Test("a tunnel that came up relay-only after one failure tries a normal generation beside the relay later")
    func relayedTunnelIsNotStranded() throws {
        var h = negotiating(turn: true)
        try failOnControlledSide(&h, now: 19_000)
        let relayed = try #require(h.meshes[Self.a]!.peers[Self.b]!.instance)
        #expect(h.meshes[Self.a]!.peers[Self.b]!.relayOnly)
        // Connected over the relay: the failure count starts again.
        h.send(.tick(nowMilliseconds: 20_000, handshakeAge: [Self.b: 1]), to: 1)
        h.send(.tick(nowMilliseconds: 20_000, handshakeAge: [Self.a: 1]), to: 2)
        #expect(h.meshes[Self.a]!.peers[Self.b]!.recovery.attempts == 0)
        var now: Int64 = 20_000
        var upgrade: [MeshAction] = []
        while upgrade.isEmpty, now < 60_000 {
            now += 1_000
            upgrade = h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 1]), to: 1)
        }
        #expect(now - 20_000 <= 31_000, "an upgrade within about 30 s")
        #expect(upgrade.contains { if case .startICE(_, _, true, .withoutOwnRelay) = $0 { true } else { false } },
                "a normal generation without our relay: \(upgrade)")
        #expect(!upgrade.contains(.closeICE(peer: Self.b, instance: relayed)), "the relay keeps carrying traffic")
        #expect(h.meshes[Self.a]!.peers[Self.b]!.standby?.instance == relayed)
    }
}
