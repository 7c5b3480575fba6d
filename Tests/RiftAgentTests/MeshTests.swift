@testable import RiftAgent
import RiftProtocol
import Testing

@Suite("Mesh negotiation")
struct MeshTests {
    func signals(_ actions: [MeshAction], _ kind: SignalKind) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == kind { p } else { nil } }
    }

    func configured(_ actions: [MeshAction]) -> [(PeerInfo, DataPathMode)] {
        actions.compactMap { if case .configureWireGuardPeer(let info, let path, _, _) = $0 { (info, path) } else { nil } }
    }

    @Test("only the peer with the smaller key offers, so there is no glare")
    func roles() {
        var h = MeshHarness()
        h.add(1); h.add(2)
        let a = h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        let b = h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        #expect(a.contains { if case .startICE(_, _, true, .all) = $0 { true } else { false } })
        #expect(!b.contains { if case .startICE = $0 { true } else { false } }, "the controlled side never starts first")
        h.settle()
        #expect(signals(h.all(1), .offer).count == 1 && signals(h.all(2), .offer).isEmpty)
        #expect(signals(h.all(2), .answer).count == 1)
    }

    @Test("a host-to-host pair configures WireGuard directly at the remote listen port, on both sides")
    func directPath() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [])), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.send(.peerJoined(MeshHarness.info(2)), to: 1)
        h.settle()
        let onA = try #require(configured(h.all(1)).last)
        let onB = try #require(configured(h.all(2)).last)
        #expect(onA.0.publicKey == MeshHarness.key(2) && onA.1 == .direct(address: "192.0.2.2", port: 51_002))
        #expect(onB.0.publicKey == MeshHarness.key(1) && onB.1 == .direct(address: "192.0.2.1", port: 51_001))
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.pathReason.contains("host-to-host"))
    }

    @Test("relayed pairs are forwarded through the agent")
    func forwardedPath() throws {
        var h = MeshHarness.welcomedPair()
        h.settle(pairKind: .relayed)
        #expect(try #require(configured(h.all(1)).last).1 == .forwarded)
        #expect(try #require(configured(h.all(2)).last).1 == .forwarded)
    }

    @Test("a relay-to-reflexive pair: the relay's owner forwards, the other side hands over to the relayed address")
    func relayToReflexiveIsHandedOverOnOneSide() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        let relay = CandidateEndpoint(kind: .relayed, address: "192.0.2.254", port: 50_001, base: TransportAddress(address: "10.0.1.2", port: 45_000))
        let mapped = CandidateEndpoint(kind: .peerReflexive, address: "198.51.100.2", port: 61_000,
                                       base: TransportAddress(address: "10.0.2.2", port: 46_000))
        let onA = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        let onB = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.instance)
        let a = h.send(.iceSelectedPair(peer: MeshHarness.key(2), instance: onA, local: relay,
                                        remote: CandidateEndpoint(kind: .peerReflexive, address: "198.51.100.2", port: 61_000)), to: 1)
        let b = h.send(.iceSelectedPair(peer: MeshHarness.key(1), instance: onB, local: mapped,
                                        remote: CandidateEndpoint(kind: .relayed, address: "192.0.2.254", port: 50_001)), to: 2)
        #expect(configured(a).last?.1 == .forwarded)
        #expect(a.contains { if case .bindForwarding = $0 { true } else { false } })
        #expect(configured(b).last?.1 == .handedOver(PortHandover(local: TransportAddress(address: "10.0.2.2", port: 46_000),
                                                                  remote: TransportAddress(address: "192.0.2.254", port: 50_001))))
        #expect(!b.contains { if case .bindForwarding = $0 { true } else { false } }, "nothing forwarded on the handed-over side")
        let reason = h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.pathReason
        #expect(reason.contains("TURN relay") && reason.contains("hand-over"), "\(reason)")
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.pathReason.contains("forwarded"))
    }

    @Test("a pair counts as host-to-host by the candidates its owners signaled, not by the ICE library's label")
    func hostByAddress() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        // Peer 2's ICE agent saw peer 1's check before its trickled host candidate and calls that end peer-reflexive;
        // peer 1 signaled 192.0.2.1:4000 as `typ host`, so the pair is host-to-host on both sides.
        let onB = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.instance)
        let actions = h.send(.iceSelectedPair(peer: MeshHarness.key(1), instance: onB,
                                              local: CandidateEndpoint(kind: .host, address: "192.0.2.2", port: 4000),
                                              remote: CandidateEndpoint(kind: .peerReflexive, address: "192.0.2.1", port: 4000)), to: 2)
        #expect(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.path == .direct(address: "192.0.2.1", port: 51_001))
        #expect(configured(actions).isEmpty, "already direct: nothing to reconfigure")
        // An address nobody signaled as host stays peer-reflexive: handed over from the local host socket.
        let other = h.send(.iceSelectedPair(peer: MeshHarness.key(1), instance: onB,
                                            local: CandidateEndpoint(kind: .host, address: "192.0.2.2", port: 4000),
                                            remote: CandidateEndpoint(kind: .peerReflexive, address: "203.0.113.1", port: 4000)), to: 2)
        #expect(configured(other).last?.1 == .handedOver(PortHandover(local: TransportAddress(address: "192.0.2.2", port: 4000),
                                                                      remote: TransportAddress(address: "203.0.113.1", port: 4000))))
    }

    @Test("a late host candidate turns a handed-over peer-reflexive pair direct; neither path forwards, direct releases the socket")
    func lateHostCandidate() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        var peer = h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!
        let instance = try #require(peer.instance)
        let session = try #require(peer.session)
        let reflexive = peer.pairSelected(instance: instance, local: CandidateEndpoint(kind: .host, address: "192.0.2.2", port: 4000),
                                          remote: CandidateEndpoint(kind: .peerReflexive, address: "10.9.9.9", port: 7000), now: 1)
        #expect(configured(reflexive).last?.1 == .handedOver(PortHandover(local: TransportAddress(address: "192.0.2.2", port: 4000),
                                                                          remote: TransportAddress(address: "10.9.9.9", port: 7000))))
        #expect(forwardingBefore(reflexive) == nil,
                "a handed-over path binds no forwarding socket (the runtime keeps a gated standby, HandoverBypassWatch)")
        let late = SignalPayload(kind: .candidate, from: MeshHarness.key(1), to: MeshHarness.key(2), session: session,
                                 generation: peer.generation, body: .candidate("candidate:9 1 UDP 5 10.9.9.9 7000 typ host"))
        let actions = peer.acceptTrickle(late)
        #expect(configured(actions).last?.1 == .direct(address: "10.9.9.9", port: 51_001))
        #expect(forwardingBefore(actions) == .releaseForwarding(peer: MeshHarness.key(1), instance: instance))
    }

    /// The forwarding action (bind or release) that comes right before the last `configureWireGuardPeer`, if any.
    func forwardingBefore(_ actions: [MeshAction]) -> MeshAction? {
        guard let configure = actions.lastIndex(where: { if case .configureWireGuardPeer = $0 { true } else { false } }),
              configure > 0 else { return nil }
        switch actions[configure - 1] {
        case .bindForwarding, .releaseForwarding: return actions[configure - 1]
        default: return nil
        }
    }

    @Test("consent lost restarts ICE on direct and forwarded paths alike, however fresh the handshake, once per backoff")
    func consentLostOnDirectPath() throws {
        for pairKind in [CandidateKind.host, .serverReflexive] {
            var h = MeshHarness.welcomedPair()
            h.settle(pairKind: pairKind)
            let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
            h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: .failed), to: 1)
            var restarts: [Int64] = []
            for second in 1...60 {
                let now = Int64(second) * 1_000
                let actions = h.send(.tick(nowMilliseconds: now, handshakeAge: [MeshHarness.key(2): 10]), to: 1)
                restarts += actions.filter { if case .startICE = $0 { true } else { false } }.map { _ in now }
            }
            // The new generations' signals go nowhere here: each is retried at its negotiation deadline, not sooner.
            #expect(restarts.first == 1_000, "\(pairKind): restarted at the first tick")
            #expect(zip(restarts, restarts.dropFirst()).allSatisfy { $1 - $0 > PeerSession.negotiationDeadline },
                    "\(pairKind): restarts at \(restarts); the next waits for the new generation's own outcome")
            // WireGuard was not moved off the path while the new generation negotiates.
            #expect(!h.all(1).contains { if case .removeWireGuardPeer = $0 { true } else { false } })
        }
    }

    @Test("candidates that arrive before the answer are buffered, then applied in order")
    func bufferedCandidates() throws {
        var h = MeshHarness()
        h.add(1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        let start = try #require(h.all(1).compactMap { if case .startICE(_, let i, _, _) = $0 { i } else { nil } }.first)
        let offer = try #require(signals(h.send(.iceStarted(peer: MeshHarness.key(2), instance: start, ufrag: "u", pwd: "p"), to: 1), .offer).first)
        func from2(_ kind: SignalKind, _ body: SignalPayload.Body) -> MeshEvent {
            .signal(SignalPayload(kind: kind, from: MeshHarness.key(2), to: MeshHarness.key(1), session: offer.session,
                                  generation: offer.generation, body: body))
        }
        #expect(h.send(from2(.candidate, .candidate("candidate:a")), to: 1).isEmpty)
        #expect(h.send(from2(.endOfCandidates, .endOfCandidates), to: 1).isEmpty)
        let applied = h.send(from2(.answer, .description(ICEDescription(ufrag: "ru", pwd: "rp", candidates: []),
                                                          WireGuardParameters(publicKey: MeshHarness.key(2), listenPort: 9))), to: 1)
        #expect(applied == [
            .setRemoteDescription(peer: MeshHarness.key(2), instance: start, ufrag: "ru", pwd: "rp", candidates: []),
            .addRemoteCandidate(peer: MeshHarness.key(2), instance: start, candidate: "candidate:a"),
            .remoteGatheringDone(peer: MeshHarness.key(2), instance: start),
        ])
    }

    @Test("a peer's candidates on the network's own overlay are dropped: they lead only through the tunnel itself")
    func overlayCandidatesDropped() {
        var h = MeshHarness()
        h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        let lan = "candidate:1 1 UDP 2130706431 192.0.2.20 40000 typ host"
        let overlay4 = "candidate:2 1 UDP 2130706175 100.64.0.7 40001 typ host"
        let overlay6 = "candidate:3 1 UDP 2130705919 fd00::7 40002 typ host"
        let outside6 = "candidate:4 1 UDP 2130705663 2001:db8::7 40003 typ host"
        func signal(_ kind: SignalKind, _ body: SignalPayload.Body) -> MeshEvent {
            .signal(SignalPayload(kind: kind, from: MeshHarness.key(1), to: MeshHarness.key(2), session: "s", generation: 0,
                                  body: body))
        }
        let answered = h.send(signal(.offer, .description(ICEDescription(ufrag: "ufrag", pwd: "p", candidates: [lan, overlay4, overlay6, outside6]),
                                                          WireGuardParameters(publicKey: MeshHarness.key(1), listenPort: 1))), to: 2)
        let described = answered.compactMap { if case .setRemoteDescription(_, _, _, _, let c) = $0 { c } else { nil } }
        #expect(described == [[lan, outside6]], "\(answered)")
        let added = { (actions: [MeshAction]) in actions.compactMap { if case .addRemoteCandidate(_, _, let c) = $0 { c } else { nil } } }
        #expect(added(h.send(signal(.candidate, .candidate(overlay4.replacingOccurrences(of: "0.7", with: "0.9"))), to: 2)).isEmpty)
        #expect(added(h.send(signal(.candidate, .candidate(lan.replacingOccurrences(of: ".20", with: ".21"))), to: 2)).count == 1)
    }

    @Test("a selected pair whose remote end is on the overlay (peer-reflexive, learned from a check) is not used")
    func overlayPairNotSelected() throws {
        var h = MeshHarness()
        h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.send(.signal(SignalPayload(kind: .offer, from: MeshHarness.key(1), to: MeshHarness.key(2), session: "s", generation: 0,
                                     body: .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                        WireGuardParameters(publicKey: MeshHarness.key(1), listenPort: 1)))), to: 2)
        let instance = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.current?.instance)
        let local = CandidateEndpoint(kind: .host, address: "192.0.2.20", port: 40000)
        func select(_ remote: CandidateEndpoint) -> [MeshAction] {
            h.send(.iceSelectedPair(peer: MeshHarness.key(1), instance: instance, local: local, remote: remote), to: 2)
        }
        let configures = { (actions: [MeshAction]) in actions.contains { if case .configureWireGuardPeer = $0 { true } else { false } } }
        #expect(select(CandidateEndpoint(kind: .peerReflexive, address: "100.64.0.7", port: 40001)).isEmpty)
        #expect(select(CandidateEndpoint(kind: .peerReflexive, address: "fd00::7", port: 40001)).isEmpty)
        #expect(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.current?.selectedPair == nil)
        #expect(configures(select(CandidateEndpoint(kind: .peerReflexive, address: "192.0.2.21", port: 40001))))
    }

    @Test("a stale offer (older generation of the same session) is ignored; a new session replaces the old")
    func staleOffers() {
        var h = MeshHarness()
        h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        func offer(_ session: String, _ generation: Int64) -> MeshEvent {
            .signal(SignalPayload(kind: .offer, from: MeshHarness.key(1), to: MeshHarness.key(2), session: session, generation: generation,
                                  body: .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                     WireGuardParameters(publicKey: MeshHarness.key(1), listenPort: 1))))
        }
        #expect(!h.send(offer("s", 1), to: 2).isEmpty)
        #expect(h.send(offer("s", 0), to: 2).isEmpty, "older generation is stale")
        #expect(h.send(offer("s", 1), to: 2).isEmpty, "duplicate")
        let restarted = h.send(offer("s", 2), to: 2)
        #expect(restarted.contains { if case .closeICE = $0 { true } else { false } })
        #expect(h.send(offer("t", 0), to: 2).contains { if case .startICE = $0 { true } else { false } }, "new session")
    }

    @Test("a peer that rejoins (its agent restarted) gets a new offer in the same session, next generation")
    func rejoin() {
        var h = MeshHarness.welcomedPair()
        h.settle()
        h.actions = [:]
        h.add(2)  // fresh agent, same key
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.send(.peerJoined(MeshHarness.info(2)), to: 1)
        h.settle()
        let offers = signals(h.all(1), .offer)
        #expect(offers.count == 1 && offers[0].generation == 1)
        #expect(configured(h.all(2)).count == 1)
    }

    @Test("peer left closes its ICE session and removes the WireGuard peer")
    func peerLeft() {
        var h = MeshHarness()
        h.add(1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        let actions = h.send(.peerLeft(MeshHarness.key(2), reason: "disconnected"), to: 1)
        #expect(actions.contains { if case .closeICE = $0 { true } else { false } })
        #expect(actions.last == .removeWireGuardPeer(MeshHarness.key(2)))
        #expect(h.meshes[MeshHarness.key(1)]!.peers.isEmpty)
    }

    @Test("after a hub outage, working tunnels are kept even if their peer has not reconnected yet")
    func hubOutage() {
        var h = MeshHarness()
        h.add(1); h.add(2); h.add(3)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2, 3])), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 3, peers: [1])), to: 3)
        h.settle()
        h.send(.tick(nowMilliseconds: 1_000, handshakeAge: [MeshHarness.key(2): 5]), to: 1)
        h.send(.hubDisconnected, to: 1)
        let actions = h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [])), to: 1)
        #expect(actions == [.closeICE(peer: MeshHarness.key(3), instance: h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(3)]?.instance ?? 0)]
                || actions.contains(.removeWireGuardPeer(MeshHarness.key(3))))
        #expect(!actions.contains(.removeWireGuardPeer(MeshHarness.key(2))), "the live tunnel stays")
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)] != nil)
    }

    @Test("ICE failure restarts the controlling side with backoff; relay-only right after the first failure, then alternating")
    func recovery() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle()
        var relayOnly: [Bool] = []
        var now: Int64 = 0
        for _ in 0..<4 {
            let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
            h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: .failed), to: 1)
            now += 100_000
            let actions = h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 1)
            let starts = actions.compactMap { if case .startICE(_, _, true, let scope) = $0 { scope == .relayOnly } else { nil } }
            #expect(starts.count == 1)
            relayOnly += starts
            #expect(h.send(.tick(nowMilliseconds: now + 1, handshakeAge: [:]), to: 1).isEmpty, "backoff holds the next try")
            h.settle()
        }
        #expect(relayOnly == [true, false, true, false])
    }

    @Test("the controlling side alone decides relay-only and its offer carries it; the controlled side follows the offer")
    func relayOnlyAgreement() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle()
        // Only the controlled side sees the failures: its restart requests start every new generation. The controlling
        // side's own checks stay quiet (rounds of 19 s: its pair is younger than the 20 s handshake deadline).
        var now: Int64 = 0
        var offered: [Bool] = []
        var controlledGathers: [Bool] = []
        for _ in 0..<4 {
            h.actions = [:]
            now += 19_000
            let instance = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.instance)
            h.send(.iceState(peer: MeshHarness.key(1), instance: instance, state: .failed), to: 2)
            #expect(signals(h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 2), .restart).count == 1)
            // Nothing of its own but the first-handshake nudge (its path never had a handshake in this test).
            #expect(h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 1).allSatisfy(isHandshakeNudge))
            h.settle()
            offered += signals(h.all(1), .offer).map(\.relayOnly)
            controlledGathers += h.all(2).compactMap { if case .startICE(_, _, false, let scope) = $0 { scope == .relayOnly } else { nil } }
        }
        // Each failure counted on the controlling side, whichever side saw it: relay-only right after the first
        // failure, then a normal generation, and so on (PeerSession.relayOnlyAfter(failures:)).
        #expect(offered == [true, false, true, false])
        #expect(controlledGathers == offered, "the controlled side gathers exactly as each offer says")
    }

    @Test("the controlled side never goes relay-only on its own, and a restart from a freshly started agent is no failure")
    func controlledNeverDecidesRelay() throws {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2], turn: true)), to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1], turn: true)), to: 2)
        h.settle()
        // A plain offer after many local failures on the controlled side: it still gathers everything.
        var now: Int64 = 0
        for _ in 0..<5 {
            let instance = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.instance)
            h.send(.iceState(peer: MeshHarness.key(1), instance: instance, state: .failed), to: 2)
            now += 100_000
            h.send(.tick(nowMilliseconds: now, handshakeAge: [:]), to: 2)
        }
        let session = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.session)
        let offer = SignalPayload(kind: .offer, from: MeshHarness.key(1), to: MeshHarness.key(2), session: session, generation: 9,
                                  body: .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                     WireGuardParameters(publicKey: MeshHarness.key(1), listenPort: 51_001)))
        let actions = h.send(.signal(offer), to: 2)
        #expect(actions.contains { if case .startICE(_, _, false, .all) = $0 { true } else { false } })
        // "none" restarts (an agent that just started) never push the controlling side towards relay-only.
        var starts: [Bool] = []
        for round in 1...4 {
            let restart = SignalPayload(kind: .restart, from: MeshHarness.key(2), to: MeshHarness.key(1), session: "none",
                                        generation: 0, body: .restart(reason: "agent started"))
            let result = h.send(.signal(restart), to: 1)
            _ = h.send(.tick(nowMilliseconds: now + Int64(round) * 10_000, handshakeAge: [:]), to: 1)
            starts += result.compactMap { if case .startICE(_, _, true, let scope) = $0 { scope == .relayOnly } else { nil } }
            now += 10_000
        }
        #expect(!starts.isEmpty && starts.allSatisfy { !$0 }, "starts: \(starts)")
    }

    @Test("a path without a first WireGuard handshake gets one fresh initiation: controlling at 1.5 s, controlled at 3 s")
    func firstHandshakeNudge() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        let start = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.current?.pathSince)
        #expect(h.send(.tick(nowMilliseconds: start + 1_000, handshakeAge: [:]), to: 1).isEmpty, "too early")
        let nudged = h.send(.tick(nowMilliseconds: start + 1_500, handshakeAge: [:]), to: 1)
        let path = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.path)
        let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        #expect(nudged == [.restartWireGuardHandshake(MeshHarness.info(2), path: path, instance: instance)])
        #expect(h.send(.tick(nowMilliseconds: start + 2_500, handshakeAge: [:]), to: 1).isEmpty, "once per generation")
        #expect(h.send(.tick(nowMilliseconds: start + 2_000, handshakeAge: [:]), to: 2).isEmpty, "controlled waits longer")
        #expect(h.send(.tick(nowMilliseconds: start + 3_000, handshakeAge: [:]), to: 2).allSatisfy(isHandshakeNudge))
        #expect(h.all(2).filter(isHandshakeNudge).count == 1)
        // A path that has had a handshake is never touched.
        var quiet = MeshHarness.connectedPair()
        #expect(quiet.send(.tick(nowMilliseconds: 90_000, handshakeAge: [MeshHarness.key(2): 1]), to: 1).isEmpty)
    }

    @Test("over a slow path the controlled side's first keepalive and both nudges wait longer")
    func slowPathStretchesFirstHandshakeTimers() throws {
        var h = MeshHarness.welcomedPair()
        h.settle(serverAnswerTakes: 2_400)  // TURN's allocation (two round trips) behind a 1.2 s round trip
        func keepalives(_ seed: UInt8) -> [KeepaliveStart] {
            h.all(seed).compactMap { if case .configureWireGuardPeer(_, _, _, let keepalive) = $0 { keepalive } else { nil } }
        }
        #expect(keepalives(1) == [.now], "the controlling side starts its handshake at once")
        #expect(keepalives(2) == [.after(.seconds(1))],
                "the server's answer time, not 250 ms, so that the controlling side's initiation arrives first; at most 1 s")
        let start = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.current?.pathSince)
        #expect(start == 2_400)
        #expect(h.send(.tick(nowMilliseconds: start + 1_500, handshakeAge: [:]), to: 1).isEmpty,
                "a handshake still on its way over the slow path is not restarted")
        #expect(h.send(.tick(nowMilliseconds: start + 3_400, handshakeAge: [:]), to: 1).allSatisfy(isHandshakeNudge))
        #expect(h.all(1).filter(isHandshakeNudge).count == 1)
        #expect(h.send(.tick(nowMilliseconds: start + 6_000, handshakeAge: [:]), to: 2).isEmpty)
        #expect(h.send(.tick(nowMilliseconds: start + 6_800, handshakeAge: [:]), to: 2).allSatisfy(isHandshakeNudge))
        #expect(h.all(2).filter(isHandshakeNudge).count == 1)
        // A near server changes nothing; a 600 ms answer defers 600 ms; one beyond the slowness cap (3 s) counts as 3 s.
        for (took, deferral, nudge) in [(40, Duration.milliseconds(250), Int64(1_500)), (600, .milliseconds(600), 1_600),
                                        (4_000, .seconds(1), 4_000)] {
            var other = MeshHarness.welcomedPair()
            other.settle(serverAnswerTakes: Int64(took))
            #expect(other.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.keepaliveDeferralNow == deferral)
            #expect(other.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.firstHandshakeNudgeAfter == nudge)
        }
    }

    @Test("the controlled side asks for a restart instead of offering")
    func controlledAsksRestart() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        let instance = try #require(h.meshes[MeshHarness.key(2)]!.peers[MeshHarness.key(1)]!.instance)
        h.send(.iceState(peer: MeshHarness.key(1), instance: instance, state: .failed), to: 2)
        let actions = h.send(.tick(nowMilliseconds: 50_000, handshakeAge: [:]), to: 2)
        #expect(signals(actions, .restart).count == 1 && signals(actions, .offer).isEmpty)
        h.send(.tick(nowMilliseconds: 50_000, handshakeAge: [MeshHarness.key(2): 5]), to: 1)  // 1 sees no problem itself
        h.settle()
        #expect(signals(h.all(1), .offer).last?.generation == 1, "the controlling side answered with a new generation")
    }

    @Test("a healthy handshake keeps everything quiet")
    func healthyIsQuiet() {
        var h = MeshHarness.welcomedPair()
        h.settle()
        for second in 1...100 {
            #expect(h.send(.tick(nowMilliseconds: Int64(second) * 60_000, handshakeAge: [MeshHarness.key(2): 30]), to: 1).isEmpty)
        }
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.isConnected)
    }
}

@Suite("Backoff")
struct BackoffTests {
    @Test("delays grow, stay within the cap, never reach zero, and never overflow")
    func bounded() {
        var backoff = Backoff(initialMilliseconds: 500, maximumMilliseconds: 30_000)
        var delays: [Int] = []
        for _ in 0..<10_000 { delays.append(backoff.nextDelay()) }
        #expect(delays.allSatisfy { $0 >= 250 && $0 <= 30_000 })
        #expect(delays.suffix(100).allSatisfy { $0 >= 15_000 })
        #expect(delays[0] <= 500)
        backoff.reset()
        #expect(backoff.stepMilliseconds == 500)
    }

    @Test("hub reconnects: however long the outage, the next attempt is at most 4 s away, and agents stay spread out")
    func hubReconnect() {
        var backoff = HubLink.reconnectBackoff()
        var delays: [Int] = []
        for _ in 0..<1_000 { delays.append(backoff.nextDelay()) }  // an outage of an hour or more
        #expect(delays.allSatisfy { $0 >= 250 && $0 <= 4_000 })
        let late = delays.suffix(500)
        #expect(late.allSatisfy { $0 >= 2_000 }, "jitter spreads agents that lost the hub together over 2 s")
        #expect(Set(late.map { $0 / 250 }).count >= 6, "the delays really vary")
    }
}

@Suite("Mesh reconvergence")
struct MeshReconvergenceTests {
    func offers(_ actions: [MeshAction]) -> [SignalPayload] {
        actions.compactMap { if case .sendSignal(let p) = $0, p.kind == .offer { p } else { nil } }
    }

    /// Two agents negotiated and report a recent handshake with ICE ready.
    func connectedPair() -> MeshHarness { MeshHarness.connectedPair() }

    @Test("after a hub restart, a healthy peer's re-join renegotiates nothing")
    func hubRestartKeepsHealthyTunnels() {
        var h = connectedPair()
        h.send(.hubDisconnected, to: 1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [])), to: 1)
        h.send(.peerJoined(MeshHarness.info(2)), to: 1)
        h.send(.hubDisconnected, to: 2)
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.settle()
        #expect(h.all(1).isEmpty && h.all(2).isEmpty, "no ICE session closed, no offer, no restart")
    }

    @Test("a restarted controlled peer asks at once, and the controlling side re-offers without waiting for a timeout")
    func restartedControlledPeer() {
        var h = connectedPair()
        h.add(2)  // agent 2 restarts: same key, no state
        h.send(.hubWelcome(MeshHarness.welcome(for: 2, peers: [1])), to: 2)
        h.send(.peerJoined(MeshHarness.info(2)), to: 1)  // healthy from 1's view: no re-offer by itself
        #expect(offers(h.all(1)).isEmpty)
        h.settle()
        let reoffers = offers(h.all(1))
        #expect(reoffers.count == 1 && reoffers[0].generation == 1, "re-offered in answer to the restart request")
        #expect(h.all(2).contains { if case .configureWireGuardPeer = $0 { true } else { false } })
    }

    @Test("a restarted controlling peer offers a new session, which the other side accepts")
    func restartedControllingPeer() {
        var h = connectedPair()
        h.add(1)
        h.send(.hubWelcome(MeshHarness.welcome(for: 1, peers: [2])), to: 1)
        h.send(.peerJoined(MeshHarness.info(1)), to: 2)
        h.settle()
        #expect(offers(h.all(1)).first?.generation == 0)
        #expect(h.all(2).contains { if case .configureWireGuardPeer = $0 { true } else { false } })
    }
}

/// Whether `action` is the first-handshake nudge (`PeerSession.nudgeFirstHandshake`).
func isHandshakeNudge(_ action: MeshAction) -> Bool {
    if case .restartWireGuardHandshake = action { true } else { false }
}
