@testable import RiftAgent
import RiftProtocol
import Testing

/// Failover made before break (PeerSession+Suspicion): a path that goes quiet gets a relay-only generation beside it
/// at once; WireGuard moves only when that generation selects a pair, and stays if the old path speaks first.
@Suite("Mesh failover on suspicion")
struct MeshSuspicionTests {
    static let a = MeshHarness.key(1)  // controlling (smaller key)
    static let b = MeshHarness.key(2)

    /// Two meshes on a direct host pair, TURN known (`turn`), healthy at 60 s; A's counters at 1,000 bytes each way.
    struct Pair {
        var h: MeshHarness
        var now: Int64 = 60_000
        var received: UInt64 = 1_000
        var sent: UInt64 = 1_000

        init(turn: Bool = true) {
            h = MeshHarness()
            h.add(1); h.add(2)
            h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: turn)), to: 1)
            h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: turn)), to: 2)
            h.settle()
            h.send(.tick(nowMilliseconds: now, handshakeAge: [b: 3], traffic: [b: TrafficCounters(received: received, sent: sent)]), to: 1)
            h.send(.tick(nowMilliseconds: now, handshakeAge: [a: 3]), to: 2)
            h.actions = [:]
        }

        var session: PeerSession { h.meshes[a]!.peers[b]! }

        /// One 250 ms read on A; `receive`/`send`: whether each counter advanced since the last one, by `bytes` (100:
        /// data; 32: one keepalive). Path probes are left out (`probes` has them), so that the rules' own actions show.
        @discardableResult
        mutating func read(receive: Bool, send: Bool = true, bytes: UInt64 = 100) -> [MeshAction] {
            now += 250
            if receive { received += bytes }
            if send { sent += bytes }
            let actions = h.send(.tick(nowMilliseconds: now, handshakeAge: [b: 3],
                                       traffic: [b: TrafficCounters(received: received, sent: sent)]), to: 1)
            let probing = actions.filter(MeshSuspicionTests.isProbe)
            if !probing.isEmpty { probes.append(now) }
            return actions.filter { !MeshSuspicionTests.isProbe($0) }
        }

        /// When A probed the path (`MeshAction.probePath`), the reads' times.
        var probes: [Int64] = []

        /// Two-way traffic on every read for a second and a half (pings, say).
        mutating func busy() { for _ in 0..<6 { read(receive: true) } }

        /// Reads with nothing received while A keeps sending, until one returns actions or `limit` ms passed; the
        /// actions and how long the silence had lasted.
        mutating func silence(limit: Int64, bytes: UInt64 = 100) -> ([MeshAction], Int64) {
            var quiet: Int64 = 0
            while quiet < limit {
                quiet += 250
                let actions = read(receive: false, bytes: bytes)
                if !actions.isEmpty { return (actions, quiet) }
            }
            return ([], quiet)
        }
    }

    static func isProbe(_ action: MeshAction) -> Bool {
        if case .probePath(let info) = action { info.publicKey == b } else { false }
    }

    static func startsRelayOnly(_ actions: [MeshAction]) -> Bool {
        actions.contains { if case .startICE(_, _, true, .relayOnly) = $0 { true } else { false } }
    }

    static func touchesWireGuard(_ actions: [MeshAction]) -> Bool {
        actions.contains {
            switch $0 {
            case .configureWireGuardPeer, .restartWireGuardHandshake, .removeWireGuardPeer: true
            default: false
            }
        }
    }

    @Test("after two-way traffic, 500 ms of silence starts a relay-only generation beside the path, which stays")
    func busySilenceIsSuspectedEarly() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        pair.busy()
        let (actions, after) = pair.silence(limit: 3_000)
        #expect(after == 500, "suspected after \(after) ms")
        #expect(Self.startsRelayOnly(actions), "\(actions)")
        #expect(!actions.contains { if case .closeICE = $0 { true } else { false } }, "the old session stays open")
        #expect(!Self.touchesWireGuard(actions), "WireGuard stays on the old path: \(actions)")
        let session = pair.session
        #expect(session.standby?.instance == direct && session.current?.startedOnSuspicion == true)
        #expect(session.path == .direct(address: "192.0.2.2", port: 51_002))
        #expect(session.lastRecoveryReason?.contains("relay prepared") == true)
    }

    @Test("idle or one-way traffic (keepalives about a second apart) is suspected only after 2.75 s (one lost keepalive is no cut)")
    func quietSilenceWaitsLonger() {
        var pair = Pair()
        Self.idle(&pair)
        let (actions, after) = pair.silence(limit: 3_000, bytes: 32)  // A sends keepalives only
        #expect(after == 2_750, "suspected after \(after) ms")
        #expect(Self.startsRelayOnly(actions))
    }

    @Test("a quiet path is probed on every read from 1.75 s of silence until the 3 s deadline, and not once it is heard")
    func quietPathIsProbed() {
        var pair = Pair()
        Self.idle(&pair)
        let start = pair.now
        for _ in 0..<5 { pair.read(receive: false, bytes: 32) }  // 1.25 s: keepalives a second apart leave such gaps
        #expect(pair.probes.isEmpty, "no probe within a working path's usual gap: \(pair.probes)")
        for _ in 0..<3 { pair.read(receive: false, bytes: 32) }
        #expect(pair.probes.map { $0 - start } == [1_750, 2_000], "\(pair.probes.map { $0 - start })")
        pair.read(receive: true, bytes: 32)  // the answer to a probe: the silence ends, nothing was suspected
        #expect(pair.session.current?.startedOnSuspicion != true && pair.session.standby == nil)
        pair.probes = []
        for _ in 0..<5 { pair.read(receive: false, bytes: 32) }
        #expect(pair.probes.isEmpty, "heard 1.25 s ago: no probe")
        var silent = Pair(turn: false)
        Self.idle(&silent)
        let quietStart = silent.now
        for _ in 0..<16 { silent.read(receive: false, bytes: 32) }
        #expect(silent.probes.map { $0 - quietStart } == [1_750, 2_000, 2_250, 2_500, 2_750],
                "at most five probes, then the dead-path rule: \(silent.probes.map { $0 - quietStart })")
        var receiving = Pair()
        Self.idle(&receiving)
        receiving.probes = []
        for _ in 0..<12 { receiving.read(receive: false, send: false) }
        #expect(receiving.probes.isEmpty, "a side that sends nothing concludes nothing from silence, and probes nothing")
    }

    @Test("data sent into an idle tunnel is suspected 1.25 s after the read that saw it go out, not 1.75 s after the last keepalive")
    func unansweredDataIsSuspectedSooner() {
        var pair = Pair()
        Self.idle(&pair)
        pair.read(receive: false, bytes: 32)  // A's keepalive: nothing is owed for it
        let (actions, after) = pair.silence(limit: 3_000)  // then pings go out, and nothing comes back
        #expect(after == 1_250 + 250, "suspected after \(after) ms of silence")
        #expect(Self.startsRelayOnly(actions))
        #expect(pair.session.lastRecoveryReason?.contains("data unanswered for 1250 ms") == true,
                "\(pair.session.lastRecoveryReason ?? "nil")")
    }

    /// An idle tunnel: a keepalive each way every fourth read for three seconds, then one from B.
    static func idle(_ pair: inout Pair) {
        for _ in 0..<3 {
            pair.read(receive: true, send: true, bytes: 32)
            for _ in 0..<3 { pair.read(receive: false, send: false) }
        }
        pair.read(receive: true, send: false, bytes: 32)
    }

    @Test("the old path speaks before the relay is ready: the new generation is closed and nothing else changes")
    func speakingAgainKeepsThePath() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        pair.busy()
        _ = pair.silence(limit: 3_000)
        let prepared = try #require(pair.session.instance)
        #expect(prepared != direct)
        let actions = pair.read(receive: true)
        #expect(actions == [.closeICE(peer: Self.b, instance: prepared)])
        let session = pair.session
        #expect(session.instance == direct && session.standby == nil && session.path == .direct(address: "192.0.2.2", port: 51_002))
        #expect(session.lastRecoveryReason?.contains("kept it") == true)
    }

    @Test("no flapping: after a suspicion proved wrong, quiet spells start nothing for 10 s below the 3 s deadline")
    func wrongSuspicionCoolsDown() throws {
        var pair = Pair()
        pair.busy()
        _ = pair.silence(limit: 3_000)
        pair.read(receive: true)
        var started = 0
        for _ in 0..<2 {  // 1.75 s of silence, then a packet, twice in the next seven seconds (busy traffic: suspect at 500 ms)
            pair.busy()
            for _ in 0..<7 { if Self.startsRelayOnly(pair.read(receive: false)) { started += 1 } }
            pair.read(receive: true)
        }
        #expect(started == 0, "a relay was prepared \(started) times during the cooldown")
        #expect(pair.session.standby == nil)
        pair.now += 3_000
        pair.busy()
        let (actions, after) = pair.silence(limit: 3_000)
        #expect(after == 500 && Self.startsRelayOnly(actions), "after the cooldown a quiet path is suspected again")
    }

    @Test("the relay selected while the path is still silent: both sides move WireGuard to it, then close the old session")
    func relaySelectedMovesBothSides() throws {
        var pair = Pair()
        let directA = try #require(pair.session.instance)
        let directB = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.instance)
        pair.busy()
        _ = pair.silence(limit: 3_000)
        pair.h.settle(pairKind: .relayed)
        for (seed, peer, old) in [(UInt8(1), Self.b, directA), (2, Self.a, directB)] {
            let actions = pair.h.all(seed)
            let configured = try #require(actions.firstIndex { if case .configureWireGuardPeer(_, .forwarded, _, _) = $0 { true } else { false } },
                                          "side \(seed) moves to the relay: \(actions)")
            let closed = try #require(actions.firstIndex(of: .closeICE(peer: peer, instance: old)), "side \(seed) closes the old session")
            #expect(configured < closed)
            let session = pair.h.meshes[MeshHarness.key(seed)]!.peers[peer]!
            #expect(session.standby == nil && session.path == .forwarded)
        }
    }

    @Test("after a move to a relay prepared on suspicion, the first try off it comes after 5 s, not 30 s; once a minute")
    func suspicionMoveIsRecheckedSoon() throws {
        var pair = Pair()
        pair.busy()
        _ = pair.silence(limit: 3_000)
        pair.h.settle(pairKind: .relayed)
        #expect(pair.session.path == .forwarded && pair.session.current?.startedOnSuspicion == true)
        let moved = pair.now
        var recent = pair.session  // the same session, had an early try been scheduled less than a minute ago
        recent.lastSuspicionRecheckAt = moved + 1_000 - PeerSession.recheckInterval + 1
        var tried: Int64?
        for second in 1...40 where tried == nil {
            let actions = pair.h.send(.tick(nowMilliseconds: moved + Int64(second) * 1_000, handshakeAge: [Self.b: 1]), to: 1)
            if actions.contains(where: { if case .startICE(_, _, true, .withoutOwnRelay) = $0 { true } else { false } }) {
                tried = Int64(second) * 1_000
            }
        }
        #expect(tried == 6_000, "a try off the relay 5 s after the first healthy tick on it: \(tried ?? -1)")

        var ids = GenerationIDs(sessionID: { "s" })
        #expect(recent.considerUpgrade(now: moved + 1_000, ids: &ids).isEmpty)
        let delay = (recent.nextUpgradeAt ?? 0) - (moved + 1_000)
        #expect(delay >= 15_000 && delay <= 30_000, "within the minute: the ordinary backoff, not 5 s: \(delay)")
    }

    @Test("a relay prepared on suspicion that fails: the old path stays, and the next step is the 3 s rule, not another preparation")
    func failedPreparationCoolsDown() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        pair.busy()
        let (_, suspectedAfter) = pair.silence(limit: 3_000)
        let prepared = try #require(pair.session.instance)
        let reverted = pair.h.send(.iceState(peer: Self.b, instance: prepared, state: .failed), to: 1)
        #expect(reverted == [.closeICE(peer: Self.b, instance: prepared)])
        #expect(pair.session.instance == direct && pair.session.standby == nil)
        // Still silent: no new preparation at the next reads; the dead-path rule acts at 2 s of silence.
        var quiet = suspectedAfter
        var actions: [MeshAction] = []
        while actions.isEmpty, quiet < 5_000 {
            actions = pair.read(receive: false)
            quiet += 250
        }
        #expect(quiet == 3_000, "next step after \(quiet) ms of silence: \(actions)")
        #expect(actions.contains(.closeICE(peer: Self.b, instance: direct)), "the dead-path rule replaces the generation: \(actions)")
    }

    @Test("the controlled side's restart request during the preparation is the same failure: ignored")
    func peerRestartDuringPreparationIgnored() throws {
        var pair = Pair()
        pair.busy()
        _ = pair.silence(limit: 3_000)
        let prepared = try #require(pair.session.instance)
        pair.now += 5_750  // past the fresh-generation window, still negotiating
        pair.read(receive: false)
        let session = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.session)
        let restart = SignalPayload(kind: .restart, from: Self.b, to: Self.a, session: session, generation: pair.session.generation,
                                    body: .restart(reason: "WireGuard received nothing for 2000 ms while sending"))
        let actions = pair.h.send(.signal(restart), to: 1)
        #expect(actions.isEmpty, "\(actions)")
        #expect(pair.session.instance == prepared)
    }

    /// One 250 ms read on B (the controlled side), its counters kept in `counters`.
    static func readB(_ pair: inout Pair, _ counters: inout TrafficCounters, receive: Bool, send: Bool = true) -> [MeshAction] {
        pair.now += 250
        if receive { counters.received += 100 }
        if send { counters.sent += 100 }
        return pair.h.send(.tick(nowMilliseconds: pair.now, handshakeAge: [a: 3], traffic: [a: counters]), to: 2)
    }

    @Test("the controlled side suspecting its path under traffic asks at once; the controlling side prepares the relay beside the path")
    func controlledSideAsksOnSuspicion() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        var counters = TrafficCounters(received: 1_000, sent: 1_000)
        _ = Self.readB(&pair, &counters, receive: true)
        for _ in 0..<6 { _ = Self.readB(&pair, &counters, receive: true) }
        // B pings into a cut; A (controlling) only answered, so it sends nothing and suspects nothing itself.
        var asked: [MeshAction] = []
        var quiet: Int64 = 0
        while asked.isEmpty, quiet < 3_000 {
            asked = Self.readB(&pair, &counters, receive: false)
            _ = pair.read(receive: false, send: false)
            quiet += 250
        }
        #expect(quiet == 500, "B asked after \(quiet) ms of silence")
        let restart = try #require(asked.compactMap { action -> SignalPayload? in
            if case .sendSignal(let payload) = action, payload.kind == .restart { payload } else { nil }
        }.first, "\(asked)")
        #expect(Self.readB(&pair, &counters, receive: false).isEmpty, "asked once, not at every read")
        let prepared = pair.h.send(.signal(restart), to: 1)
        #expect(Self.startsRelayOnly(prepared), "\(prepared)")
        #expect(!prepared.contains { if case .closeICE = $0 { true } else { false } }, "the old session stays open")
        #expect(!Self.touchesWireGuard(prepared))
        #expect(pair.session.standby?.instance == direct)
    }

    @Test("a restart asked for while the path still carries here is prepared beside it, and given up when the path speaks")
    func requestOnAWorkingPathChangesNothing() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        pair.busy()
        let session = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.session)
        let restart = SignalPayload(kind: .restart, from: Self.b, to: Self.a, session: session, generation: pair.session.generation,
                                    body: .restart(reason: "WireGuard received nothing for 500 ms while sending"))
        let prepared = pair.h.send(.signal(restart), to: 1)
        #expect(Self.startsRelayOnly(prepared) && !Self.touchesWireGuard(prepared), "\(prepared)")
        let given = try #require(pair.session.instance)
        let actions = pair.read(receive: true)
        #expect(actions == [.closeICE(peer: Self.b, instance: given)], "\(actions)")
        #expect(pair.session.instance == direct && pair.session.standby == nil)
    }

    @Test("without TURN nothing is prepared: at the 3 s deadline the next generation tries every pair, as before")
    func withoutTurnAsBefore() {
        var pair = Pair(turn: false)
        pair.busy()
        let (actions, after) = pair.silence(limit: 3_000)
        #expect(after == 3_000)
        #expect(actions.contains { if case .startICE(_, _, true, .all) = $0 { true } else { false } }, "\(actions)")
        #expect(pair.session.lastRecoveryReason?.contains("received nothing") == true)
    }

    @Test("consent lost while WireGuard still receives: a normal generation beside the path, no failure, no relay")
    func lostConsentOnALivePathIsRenewed() throws {
        var pair = Pair()
        let direct = try #require(pair.session.instance)
        pair.busy()
        #expect(pair.h.send(.iceState(peer: Self.b, instance: direct, state: .failed), to: 1).isEmpty)
        let actions = pair.read(receive: true)
        // Without our relay: the path does not use it, and a pair on it selected first would move the tunnel off it.
        #expect(actions.contains { if case .startICE(_, _, true, .withoutOwnRelay) = $0 { true } else { false } }, "\(actions)")
        #expect(!actions.contains(.closeICE(peer: Self.b, instance: direct)), "the old session stays: \(actions)")
        #expect(!Self.touchesWireGuard(actions), "\(actions)")
        #expect(pair.session.standby?.instance == direct && pair.session.failedGenerationsInARow == 0)
        #expect(pair.session.lastRecoveryReason?.contains("still receives") == true, "\(String(describing: pair.session.lastRecoveryReason))")
        #expect(AgentCore.peerStatus(pair.session, wireguard: nil, underlay: []).state == .connected)

        // The same loss on a path WireGuard no longer hears is a failure, as before: a relay-only generation.
        var silent = Pair()
        let old = try #require(silent.session.instance)
        silent.busy()
        for _ in 0..<8 { silent.read(receive: false, send: false) }  // nothing in for 2 s (this side idle too)
        #expect(silent.h.send(.iceState(peer: Self.b, instance: old, state: .failed), to: 1).isEmpty)
        let failed = silent.read(receive: false, send: false)
        #expect(Self.startsRelayOnly(failed), "\(failed)")
        #expect(silent.session.lastRecoveryReason == "ICE failed or consent lost")
    }

    @Test("a renewal the controlled side did not ask for, over a path it hears, gathers no relay of its own; one it asked for gathers everything")
    func renewalOfferLeavesOurRelayOut() throws {
        var pair = Pair()
        let controlled = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.instance)
        var now = pair.now
        var received: UInt64 = 500
        func readB() -> [MeshAction] {
            now += 250
            received += 100
            return pair.h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.a: 3],
                                     traffic: [Self.a: TrafficCounters(received: received, sent: received)]), to: 2)
        }
        func offer(_ generation: Int64) -> MeshEvent {
            .signal(SignalPayload(kind: .offer, from: Self.a, to: Self.b, session: pair.session.session ?? "",
                                  generation: generation,
                                  body: .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                     WireGuardParameters(publicKey: Self.a, listenPort: 51_001))))
        }
        func scope(_ actions: [MeshAction]) -> ICECandidateScope? {
            actions.compactMap { if case .startICE(_, _, false, let scope) = $0 { scope } else { nil } }.first
        }
        _ = readB(); _ = readB()
        // A's renewal after its own consent was lost (A gathers without its relay): B hears A, asked for nothing.
        let renewal = pair.h.send(offer(pair.session.generation + 1), to: 2)
        #expect(scope(renewal) == .withoutOwnRelay, "\(renewal)")
        #expect(pair.h.meshes[Self.b]!.peers[Self.a]!.standby?.instance == controlled, "make before break")
        #expect(pair.h.meshes[Self.b]!.peers[Self.a]!.current?.relayHoldEndsAt == nil, "nothing to hold back")

        // B's own generation then fails and B asks (its network changed, say): what answers gathers everything.
        pair = Pair()
        let asked = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.instance)
        now = pair.now
        received = 500
        _ = readB(); _ = readB()
        #expect(pair.h.send(.iceState(peer: Self.a, instance: asked, state: .failed), to: 2).isEmpty)
        let request = readB()
        #expect(request.contains { if case .sendSignal(let p) = $0 { p.kind == .restart } else { false } }, "\(request)")
        let answer = pair.h.send(offer(pair.session.generation + 1), to: 2)
        #expect(scope(answer) == .all, "\(answer)")
    }

    @Test("the controlled side's consent lost on a live path: it asks with session none, and the controlling side renews beside the path")
    func controlledLostConsentAsksForRenewal() throws {
        var pair = Pair()
        let controlled = try #require(pair.h.meshes[Self.b]!.peers[Self.a]!.instance)
        var now = pair.now
        var received: UInt64 = 500
        func readB() -> [MeshAction] {
            now += 250
            received += 100
            return pair.h.send(.tick(nowMilliseconds: now, handshakeAge: [Self.a: 3],
                                     traffic: [Self.a: TrafficCounters(received: received, sent: received)]), to: 2)
        }
        _ = readB(); _ = readB()
        #expect(pair.h.send(.iceState(peer: Self.a, instance: controlled, state: .failed), to: 2).isEmpty)
        let asked = readB()
        let restart = try #require(asked.compactMap { if case .sendSignal(let p) = $0, p.kind == .restart { p } else { nil } }.first,
                                   "\(asked)")
        #expect(restart.session == "none")
        let direct = try #require(pair.session.instance)
        pair.now = now
        pair.read(receive: true)  // A's generation is older than 5 s, its path healthy
        let answered = pair.h.send(.signal(restart), to: 1)
        #expect(answered.contains { if case .startICE(_, _, true, .withoutOwnRelay) = $0 { true } else { false } }, "\(answered)")
        #expect(!answered.contains(.closeICE(peer: Self.b, instance: direct)), "make before break: \(answered)")

        // The renewal's offer reaches B, whose own session's consent is lost but whose WireGuard still hears A: B keeps
        // that session as its standby until the new generation selects, so its status still names the pair (before, it
        // closed it and showed `connected` with no pair, and a hand-over lost its socket meanwhile).
        let peerB = pair.h.meshes[Self.b]!.peers[Self.a]!
        _ = readB()
        let offer = SignalPayload(kind: .offer, from: Self.a, to: Self.b, session: try #require(pair.session.session),
                                  generation: pair.session.generation,
                                  body: .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                     WireGuardParameters(publicKey: Self.a, listenPort: 51_001)))
        let accepted = pair.h.send(.signal(offer), to: 2)
        #expect(accepted.contains { if case .startICE(_, _, false, _) = $0 { true } else { false } }, "\(accepted)")
        #expect(!accepted.contains(.closeICE(peer: Self.a, instance: controlled)), "make before break: \(accepted)")
        let renewingB = pair.h.meshes[Self.b]!.peers[Self.a]!
        #expect(renewingB.standby?.instance == controlled && peerB.current?.instance == controlled)
        #expect(AgentCore.peerStatus(renewingB, wireguard: nil, underlay: []).pathType != nil)

        // The standby's own consent goes too while the new generation negotiates (the peer closed its end): WireGuard
        // still hears the peer over the path, so the standby stays and status still names its pair.
        pair.read(receive: true)
        let lost = pair.h.send(.iceState(peer: Self.b, instance: direct, state: .failed), to: 1)
        #expect(!lost.contains(.closeICE(peer: Self.b, instance: direct)), "\(lost)")
        #expect(pair.session.standby?.instance == direct && pair.session.activePair != nil)
        #expect(AgentCore.peerStatus(pair.session, wireguard: nil, underlay: []).pathType != nil)
        // A standby WireGuard no longer hears is closed when its ICE fails, as before.
        var silent = Pair()
        silent.busy()
        let old = try #require(silent.session.instance)
        silent.h.send(.signal(SignalPayload(kind: .restart, from: Self.b, to: Self.a, session: "none", generation: 0,
                                            body: .restart(reason: "started"))), to: 1)
        #expect(silent.session.standby?.instance == old)
        for _ in 0..<8 { silent.read(receive: false, send: false) }
        let closed = silent.h.send(.iceState(peer: Self.b, instance: old, state: .failed), to: 1)
        #expect(closed.contains(.closeICE(peer: Self.b, instance: old)), "\(closed)")
    }

    @Test("status: a path found dead is 're-establishing' at once, not after the retry fails; heard again, 'connected'")
    func deadPathShownAtOnce() {
        func state(_ pair: Pair) -> AgentStatus.PeerState {
            AgentCore.peerStatus(pair.session, wireguard: nil, underlay: []).state
        }
        var pair = Pair(turn: false)
        pair.busy()
        _ = pair.silence(limit: 2_750)
        #expect(state(pair) == .connected, "silent, not yet dead")
        let (actions, _) = pair.silence(limit: 3_000)
        #expect(!actions.isEmpty && pair.session.failedGenerationsInARow == 0, "the retry has only begun")
        #expect(state(pair) == .reestablishing, "the handshake is 3 s old, but the path is dead")
        pair.read(receive: true)
        #expect(state(pair) == .connected, "the peer is heard again over the old path")
    }
}
