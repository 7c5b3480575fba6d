@testable import RiftAgent
import RiftProtocol
import Testing

/// A peer whose hub connection ended keeps a tunnel that still works (Mesh+AbsentPeers), and loses it as soon as
/// the tunnel needs the hub, the hub withdraws its access, or the grace runs out.
@Suite("Mesh: peers the hub no longer lists")
struct MeshAbsentPeerTests {
    static let a = MeshHarness.key(1)  // controlling (smaller key)
    static let b = MeshHarness.key(2)

    static func removes(_ actions: [MeshAction], _ key: PublicKey) -> Bool { actions.contains(.removeWireGuardPeer(key)) }

    static func needsHub(_ actions: [MeshAction]) -> Bool {
        actions.contains {
            switch $0 {
            case .startICE, .sendSignal: true
            default: false
            }
        }
    }

    /// Two-way traffic for `seconds` on A (reads every 250 ms); the actions of all reads.
    static func traffic(_ pair: inout MeshSuspicionTests.Pair, seconds: Int) -> [MeshAction] {
        (0..<(seconds * 4)).flatMap { _ in pair.read(receive: true) }
    }

    @Test("a peer whose hub connection ended keeps its working tunnel; rejoining ends the absence")
    func keptWhileItWorks() {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        let left = pair.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1)
        #expect(left.isEmpty, "nothing closed: \(left)")
        #expect(pair.session.absentFromHubSince == pair.now)
        let later = Self.traffic(&pair, seconds: 60)
        #expect(!MeshSuspicionTests.touchesWireGuard(later) && !Self.needsHub(later), "\(later)")
        #expect(pair.h.meshes[Self.a]!.peers[Self.b] != nil)

        let joined = pair.h.send(.peerJoined(MeshHarness.info(2)), to: 1)
        #expect(!Self.removes(joined, Self.b))
        #expect(pair.session.absentFromHubSince == nil)
    }

    @Test("a peer back on the hub that starts afresh gets a new generation, even within 5 s of the last one")
    func freshStartAfterReturn() {
        func startsICE(_ actions: [MeshAction]) -> Bool {
            actions.contains { if case .startICE = $0 { true } else { false } }
        }
        let agentStarted = SignalPayload(kind: .restart, from: Self.b, to: Self.a, session: "none", generation: 0,
                                         body: .restart(reason: "agent started"))
        for returns in [false, true] {
            var pair = MeshSuspicionTests.Pair()
            // A generation a second old (A's own address changed), carrying.
            #expect(startsICE(pair.h.send(.underlayChanged(vanished: ["192.0.2.1"], appeared: [], routeChanged: false), to: 1)))
            pair.h.settle()
            pair.busy()
            if returns {
                // B's agent restarted: its hub session ended and a new one began; A kept the working tunnel meanwhile.
                _ = pair.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1)
                #expect(pair.session.absentFromHubSince != nil)
                #expect(!startsICE(pair.h.send(.peerJoined(MeshHarness.info(2)), to: 1)), "healthy: no generation on the join")
            }
            let answer = pair.h.send(.signal(agentStarted), to: 1)
            // Without a return the young generation already answers B's start; after one it was made for B's
            // previous run, whose ICE state is gone.
            #expect(startsICE(answer) == returns, "returned: \(returns), \(answer)")
        }
    }

    @Test("an unknown reason is treated like disconnected; timeout too")
    func unknownReason() {
        for reason in ["timeout", "gone"] {
            var pair = MeshSuspicionTests.Pair()
            pair.busy()
            #expect(pair.h.send(.peerLeft(Self.b, reason: reason), to: 1).isEmpty)
            #expect(pair.session.absentFromHubSince != nil)
        }
    }

    @Test("revoked and policy remove the peer at once, working tunnel or not")
    func revokedAtOnce() {
        for reason in ["revoked", "policy"] {
            var pair = MeshSuspicionTests.Pair()
            pair.busy()
            let actions = pair.h.send(.peerLeft(Self.b, reason: reason), to: 1)
            #expect(Self.removes(actions, Self.b), "\(reason): \(actions)")
            #expect(pair.h.meshes[Self.a]!.peers[Self.b] == nil)
        }
    }

    @Test("a peer that left without a working tunnel is removed at once")
    func noTunnelNoKeeping() {
        var h = MeshHarness()
        h.add(1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        #expect(Self.removes(h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1), Self.b))

        var dead = MeshSuspicionTests.Pair()
        dead.busy()
        let (suspected, _) = dead.silence(limit: 2_500)  // a relay-only generation beside the path: it is in doubt
        #expect(MeshSuspicionTests.startsRelayOnly(suspected))
        #expect(!dead.session.carriesTraffic(now: dead.now))
        #expect(Self.removes(dead.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1), Self.b))
    }

    @Test("when the kept path goes quiet the peer is removed, with no generation started for a peer the hub cannot reach")
    func removedWhenThePathFails() throws {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        #expect(pair.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1).isEmpty)
        // `try #require`, not `instance!` below: Swift 6.3.1's optimizer (CopyPropagation) crashed on the force unwrap
        // in the release build with testable imports that `make bench` makes for the data-path harness.
        let instance = try #require(pair.session.instance)
        let (actions, quiet) = pair.silence(limit: 4_000)
        #expect(quiet <= 3_000, "removed within the suspicion deadlines: \(quiet) ms")
        #expect(Self.removes(actions, Self.b), "\(actions)")
        #expect(!Self.needsHub(actions), "no relay-only generation or restart request: \(actions)")
        #expect(actions.contains(.closeICE(peer: Self.b, instance: instance)), "its ICE session closed: \(actions)")
        #expect(pair.h.meshes[Self.a]!.peers[Self.b] == nil)
    }

    @Test("ICE failing under a kept tunnel removes it instead of restarting ICE")
    func iceFailureRemoves() throws {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        _ = pair.h.send(.peerLeft(Self.b, reason: "timeout"), to: 1)
        let instance = try #require(pair.session.instance)
        var actions = pair.h.send(.iceState(peer: Self.b, instance: instance, state: .failed), to: 1)
        // A direct path WireGuard still hears keeps carrying without ICE: kept, and no renewal (it needs the hub).
        actions += Self.traffic(&pair, seconds: 5)
        #expect(!Self.needsHub(actions) && !Self.removes(actions, Self.b), "\(actions)")
        // Then silence: removed.
        let (quiet, _) = pair.silence(limit: 4_000)
        #expect(Self.removes(quiet, Self.b) && !Self.needsHub(quiet), "\(quiet)")
    }

    @Test("the controlled side removes a quiet absent peer instead of asking it for a generation")
    func controlledSide() {
        var pair = MeshSuspicionTests.Pair()
        var counters = TrafficCounters(received: 1_000, sent: 1_000)
        for _ in 0..<8 { _ = MeshSuspicionTests.readB(&pair, &counters, receive: true) }  // busy two-way traffic on B
        #expect(pair.h.send(.peerLeft(Self.a, reason: "disconnected"), to: 2).isEmpty)
        var all: [MeshAction] = []
        for _ in 0..<16 where pair.h.meshes[Self.b]!.peers[Self.a] != nil {
            all += MeshSuspicionTests.readB(&pair, &counters, receive: false)
        }
        #expect(Self.removes(all, Self.a) && !Self.needsHub(all), "\(all)")
    }

    @Test("a kept peer goes after the grace, even while its tunnel works")
    func graceRunsOut() {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        _ = pair.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1)
        let seconds = Int(Mesh.absentPeerGraceMilliseconds / 1_000)
        let before = Self.traffic(&pair, seconds: seconds - 1)
        #expect(!Self.removes(before, Self.b))
        let after = Self.traffic(&pair, seconds: 2)
        #expect(Self.removes(after, Self.b))
    }

    @Test("a relayed tunnel kept while absent tries no upgrade (an offer the peer could not receive)")
    func noUpgradeWhileAbsent() {
        var h = MeshHarness.connectedPair(pairKind: .relayed)
        var now: Int64 = 60_000
        var counter: UInt64 = 1_000
        #expect(h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1).isEmpty)
        var all: [MeshAction] = []
        for _ in 0..<(4 * 280) {  // past the upgrade backoff's first three tries (30 s, 90 s, 210 s), within the grace
            now += 250; counter += 100
            all += h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.b: 3],
                                traffic: [Self.b: TrafficCounters(received: counter, sent: counter)]), to: 1)
        }
        #expect(!Self.needsHub(all) && !Self.removes(all, Self.b), "\(all.prefix(5))")
        #expect(h.meshes[Self.a]!.peers[Self.b]?.isRelayed == true)
    }

    @Test("a welcome after a hub outage keeps a live tunnel as absent, and removes it once it fails")
    func welcomeKeepsAsAbsent() {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        pair.h.send(.hubDisconnected, to: 1)
        let welcomed = pair.h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [], turn: true)), to: 1)
        #expect(!Self.removes(welcomed, Self.b))
        #expect(pair.session.absentFromHubSince != nil)
        let (actions, _) = pair.silence(limit: 4_000)
        #expect(Self.removes(actions, Self.b) && !Self.needsHub(actions), "\(actions)")
    }

    @Test("a resume from suspend removes a kept peer instead of renegotiating with it")
    func resumeRemoves() {
        var pair = MeshSuspicionTests.Pair()
        pair.busy()
        _ = pair.h.send(.peerLeft(Self.b, reason: "disconnected"), to: 1)
        let actions = pair.h.send(.resumed(reason: "the system resumed"), to: 1)
        #expect(Self.removes(actions, Self.b) && !Self.needsHub(actions), "\(actions)")
    }
}
