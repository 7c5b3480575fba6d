@testable import RiftAgent
import RiftProtocol
import Testing

/// Signals lost with a hub connection (Mesh+LostSignals): whatever was written before a welcome may be gone, so the
/// welcome resumes every exchange that may depend on it, and nothing else.
@Suite("Mesh: signals lost with the hub connection")
struct MeshLostSignalTests {
    static let a = MeshHarness.key(1)  // controlling
    static let b = MeshHarness.key(2)

    func signals(_ actions: [MeshAction], _ kind: SignalKind) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == kind { p } else { nil } }
    }

    func startsICE(_ actions: [MeshAction]) -> Bool {
        actions.contains { if case .startICE = $0 { true } else { false } }
    }

    /// The connection is replaced: with `disconnect`, the loss was noticed first; without, only the welcome tells.
    @discardableResult
    func reconnect(_ h: inout MeshHarness, _ seed: UInt8, disconnect: Bool) -> [MeshAction] {
        if disconnect { h.send(.hubDisconnected, to: seed) }
        return h.send(.hubWelcome(MeshHarness.welcome(for: seed, peers: [seed == 1 ? 2 : 1], turn: true)), to: seed)
    }

    /// A's path goes quiet and A prepares a relay beside it; the relay-only session gathers and A writes its offer,
    /// candidate and end of candidates on a connection that is dead: none of it arrives. Returns the relay's instance.
    func suspicionOfferLost(_ pair: inout MeshSuspicionTests.Pair) throws -> UInt64 {
        pair.busy()
        let (started, _) = pair.silence(limit: 3_000)
        #expect(MeshSuspicionTests.startsRelayOnly(started))
        let relay = try #require(pair.session.current?.startedOnSuspicion == true ? pair.session.instance : nil)
        var written = pair.h.send(.iceStarted(peer: Self.b, instance: relay, ufrag: "u", pwd: "p"), to: 1)
        let line = "candidate:1 1 UDP 1 203.0.113.3 49000 typ relay raddr 0.0.0.0 rport 0"
        written += pair.h.send(.iceCandidate(peer: Self.b, instance: relay, candidate: line), to: 1)
        written += pair.h.send(.iceGatheringDone(peer: Self.b, instance: relay), to: 1)
        #expect(signals(written, .offer).first?.relayOnly == true)
        pair.h.actions = [:]  // written to the dead connection: lost
        return relay
    }

    @Test("a relay prepared on suspicion whose offer was lost is negotiated afresh at the welcome", arguments: [true, false])
    func suspicionOfferResumed(disconnect: Bool) throws {
        var pair = MeshSuspicionTests.Pair()
        let relay = try suspicionOfferLost(&pair)
        let welcomed = reconnect(&pair.h, 1, disconnect: disconnect)
        #expect(welcomed.contains(.closeICE(peer: Self.b, instance: relay)))
        #expect(startsICE(welcomed), "resumed at once: \(welcomed)")
        #expect(pair.session.lastRecoveryReason?.contains("may have been lost") == true)
        pair.h.settle()
        #expect(signals(pair.h.all(1), .offer).count == 1, "the peer got the new offer")
        #expect(pair.session.current?.selectedPair != nil && pair.session.standby == nil)
    }

    @Test("a relay prepared on suspicion that failed for want of its lost offer is resumed at the welcome, beside the old path",
          arguments: [true, false])
    func failedSuspicionResumed(disconnect: Bool) throws {
        var pair = MeshSuspicionTests.Pair()
        let relay = try suspicionOfferLost(&pair)
        let direct = try #require(pair.session.standby?.instance)
        pair.h.send(.iceState(peer: Self.b, instance: relay, state: .failed), to: 1)
        #expect(pair.session.instance == direct && pair.session.standby == nil, "back on the silent path")
        let welcomed = reconnect(&pair.h, 1, disconnect: disconnect)
        #expect(startsICE(welcomed), "resumed at once: \(welcomed)")
        #expect(pair.session.standby?.instance == direct, "make before break: the old path stays until the new pair")
        pair.h.settle()
        #expect(pair.session.current?.selectedPair != nil && pair.session.standby == nil)
    }

    @Test("the peer's hub connection is replaced: what the hub wrote to it there is resumed when it rejoins")
    func peerConnectionReplaced() throws {
        var pair = MeshSuspicionTests.Pair()
        let relay = try suspicionOfferLost(&pair)  // written on A's working connection, lost on B's dead one
        pair.h.send(.iceState(peer: Self.b, instance: relay, state: .failed), to: 1)
        let rejoined = pair.h.send(.peerJoined(MeshHarness.info(2)), to: 1)
        #expect(startsICE(rejoined), "resumed at once: \(rejoined)")
        pair.h.settle()
        #expect(pair.session.current?.selectedPair != nil && pair.session.standby == nil)
    }

    /// B's side of `pair`: one 250 ms read of B's counters for A.
    @discardableResult
    func readB(_ pair: inout MeshSuspicionTests.Pair, at now: Int64, received: UInt64, sent: UInt64) -> [MeshAction] {
        pair.h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.a: 3],
                          traffic: [Self.a: TrafficCounters(received: received, sent: sent)]), to: 2)
    }

    /// B (controlled) hears nothing while it keeps sending, asks A for a restart, and the request is lost. Returns the
    /// time of B's last read and B's counters.
    func restartRequestLost(_ pair: inout MeshSuspicionTests.Pair) -> (now: Int64, received: UInt64, sent: UInt64) {
        var now: Int64 = 60_000
        var received: UInt64 = 1_000
        var sent: UInt64 = 1_000
        for _ in 0..<7 {  // two-way traffic
            now += 250; received += 100; sent += 100
            readB(&pair, at: now, received: received, sent: sent)
        }
        var asked: [MeshAction] = []
        while asked.isEmpty, now < 64_000 {  // then silence
            now += 250; sent += 100
            asked = readB(&pair, at: now, received: received, sent: sent)
        }
        #expect(signals(asked, .restart).count == 1, "B asked: \(asked)")
        pair.h.actions = [:]  // lost
        return (now, received, sent)
    }

    @Test("the controlled side's lost restart request is asked again at its welcome, and answered",
          arguments: [true, false])
    func restartRequestResumed(disconnect: Bool) {
        var pair = MeshSuspicionTests.Pair()
        _ = restartRequestLost(&pair)
        let welcomed = reconnect(&pair.h, 2, disconnect: disconnect)
        #expect(signals(welcomed, .restart).first?.session == "none", "\(welcomed)")
        pair.h.settle()
        #expect(signals(pair.h.all(1), .offer).count == 1, "A offered a new generation")
        #expect(pair.h.meshes[Self.b]!.peers[Self.a]!.current?.selectedPair != nil)
    }

    @Test("nothing is resent when it cannot matter: a restart asked before the path spoke again, a settled exchange")
    func nothingResentBlindly() {
        var pair = MeshSuspicionTests.Pair()
        var (now, received, sent) = restartRequestLost(&pair)
        now += 250; received += 100; sent += 100
        readB(&pair, at: now, received: received, sent: sent)  // the path speaks again: the request no longer matters
        #expect(!reconnect(&pair.h, 2, disconnect: true).contains { if case .sendSignal = $0 { true } else { false } })
        // A's exchange settled when its pair was selected; the end of candidates written after that cannot stall it.
        var h = MeshHarness.connectedPair()
        let instance = h.meshes[Self.a]!.peers[Self.b]!.instance!
        h.send(.iceGatheringDone(peer: Self.b, instance: instance), to: 1)
        h.send(.hubDisconnected, to: 1)
        #expect(h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1).isEmpty)
    }
}
