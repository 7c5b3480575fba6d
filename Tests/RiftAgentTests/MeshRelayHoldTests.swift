@testable import RiftAgent
import RiftProtocol
import Testing

/// The controlled side's relayed candidates wait in a normal generation (PeerSession+RelayHold), so a relay-to-relay
/// pair cannot be selected before a pair relayed on one end only.
@Suite("Relayed candidates held back by the controlled side")
struct MeshRelayHoldTests {
    static let relay = "candidate:3 1 UDP 16777215 203.0.113.3 49152 typ relay raddr 10.0.2.2 rport 40000"
    static let host = "candidate:1 1 UDP 2130706431 10.0.2.2 40000 typ host"

    /// Agent 1 (controlling) and agent 2 exchanged descriptions of one generation (relay-only or not); nothing gathered
    /// yet on either side.
    func described(relayOnly: Bool = false) throws -> (MeshHarness, UInt64, UInt64) {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        if relayOnly {
            var peer = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)])
            var ids = GenerationIDs(sessionID: { "relay-only" })
            for _ in 0..<1_000 { _ = ids.instance() }
            h.actions[MeshHarness.key(1), default: []] += peer.beginGeneration(ids: &ids, forceRelay: true, now: 0)
            h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)] = peer
        }
        let a = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        let offerActions = h.send(.iceStarted(peer: MeshHarness.key(2), instance: a, ufrag: "ua", pwd: "pa"), to: 1)
        let offer = try #require(signals(offerActions, .offer).first)
        for action in h.send(.signal(offer), to: 2) {
            if case .startICE(_, let instance, _, _) = action {
                let answer = h.send(.iceStarted(peer: MeshHarness.key(1), instance: instance, ufrag: "ub", pwd: "pb"), to: 2)
                h.send(.signal(try #require(signals(answer, .answer).first)), to: 1)
                return (h, a, instance)
            }
        }
        throw HoldTestError.noControlledSession
    }

    enum HoldTestError: Error { case noControlledSession }

    func signals(_ actions: [MeshAction], _ kind: SignalKind) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == kind { p } else { nil } }
    }

    func candidates(_ actions: [MeshAction]) -> [String] {
        signals(actions, .candidate).compactMap { if case .candidate(let line) = $0.body { line } else { nil } }
    }

    /// Agent 2 gathers a host and a relayed candidate, then ends gathering; returns what it signaled.
    func gather(_ h: inout MeshHarness, on b: UInt64) -> [MeshAction] {
        h.send(.iceCandidate(peer: MeshHarness.key(1), instance: b, candidate: Self.host), to: 2)
            + h.send(.iceCandidate(peer: MeshHarness.key(1), instance: b, candidate: Self.relay), to: 2)
            + h.send(.iceGatheringDone(peer: MeshHarness.key(1), instance: b), to: 2)
    }

    func tick(_ h: inout MeshHarness, at now: Int64) -> [MeshAction] {
        h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 2)
    }

    @Test("in a normal generation the controlled side signals host candidates at once, its relay only after the hold")
    func relayWaitsForTheHold() throws {
        var (h, _, b) = try described()
        let gathered = gather(&h, on: b)
        #expect(candidates(gathered) == [Self.host])
        #expect(signals(gathered, .endOfCandidates).isEmpty, "the end of candidates waits behind the held relay")
        #expect(candidates(tick(&h, at: PeerSession.relayHoldMilliseconds - 250)).isEmpty)
        let released = tick(&h, at: PeerSession.relayHoldMilliseconds)
        #expect(candidates(released) == [Self.relay])
        #expect(signals(released, .endOfCandidates).count == 1)
        #expect(tick(&h, at: PeerSession.relayHoldMilliseconds + 250).isEmpty, "released once")
    }

    @Test("a pair selected during the hold: the relay is never signaled, the end of candidates is")
    func relayDroppedOnceAPairIsSelected() throws {
        var (h, _, b) = try described()
        _ = gather(&h, on: b)
        let mapped = CandidateEndpoint(kind: .peerReflexive, address: "198.51.100.2", port: 61_000,
                                       base: TransportAddress(address: "10.0.2.2", port: 40_000))
        let theirRelay = CandidateEndpoint(kind: .relayed, address: "203.0.113.3", port: 49_999)
        h.send(.iceSelectedPair(peer: MeshHarness.key(1), instance: b, local: mapped, remote: theirRelay), to: 2)
        let released = tick(&h, at: PeerSession.relayHoldMilliseconds)
        #expect(candidates(released).isEmpty)
        #expect(signals(released, .endOfCandidates).count == 1)
    }

    @Test("the controlling side signals its relay at once")
    func controllingSideHoldsNothing() throws {
        var (h, a, _) = try described()
        let relay = h.send(.iceCandidate(peer: MeshHarness.key(2), instance: a, candidate: Self.relay), to: 1)
        #expect(candidates(relay) == [Self.relay])
        #expect(signals(h.send(.iceGatheringDone(peer: MeshHarness.key(2), instance: a), to: 1), .endOfCandidates).count == 1)
    }

    @Test("in a relay-only generation the controlled side signals its relay at once")
    func relayOnlyGenerationsHoldNothing() throws {
        var (h, _, b) = try described(relayOnly: true)
        #expect(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.relayOnly)
        let gathered = h.send(.iceCandidate(peer: MeshHarness.key(1), instance: b, candidate: Self.relay), to: 2)
            + h.send(.iceGatheringDone(peer: MeshHarness.key(1), instance: b), to: 2)
        #expect(candidates(gathered) == [Self.relay])
        #expect(signals(gathered, .endOfCandidates).count == 1)
    }

    @Test("without a relayed candidate the end of candidates is not held")
    func nothingHeldWithoutRelay() throws {
        var (h, _, b) = try described()
        let gathered = h.send(.iceCandidate(peer: MeshHarness.key(1), instance: b, candidate: Self.host), to: 2)
            + h.send(.iceGatheringDone(peer: MeshHarness.key(1), instance: b), to: 2)
        #expect(candidates(gathered) == [Self.host])
        #expect(signals(gathered, .endOfCandidates).count == 1)
    }

    @Test("only `typ relay` lines count as relayed")
    func relayedLines() {
        #expect(PeerSession.isRelayed(Self.relay))
        #expect(!PeerSession.isRelayed(Self.host))
        #expect(!PeerSession.isRelayed("candidate:2 1 UDP 1694498815 198.51.100.2 61000 typ srflx raddr 10.0.2.2 rport 40000"))
        #expect(!PeerSession.isRelayed("garbage"))
    }
}
