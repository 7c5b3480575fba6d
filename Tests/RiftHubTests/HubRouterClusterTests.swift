import RiftCluster
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: hub cluster over a fake bus")
struct HubRouterClusterTests {
    private func cluster(hubs count: Int = 2) -> (FakeClusterBus, [RouterHarness], token: String) {
        FakeClusterBus.cluster(hubs: count)
    }

    private func joined(_ messages: [HubMessage]) -> [PublicKey] {
        messages.compactMap { if case .peerJoined(let peer) = $0 { peer.publicKey } else { nil } }
    }

    private func left(_ messages: [HubMessage]) -> [PeerLeft] {
        messages.compactMap { if case .peerLeft(let left) = $0 { left } else { nil } }
    }

    @Test("a peer on hub 2 sees in its welcome the peer on hub 1, which is told peer_joined; both have the same addresses")
    func presenceAcrossHubs() throws {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, welcomeA) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        bus.pump()
        #expect(welcomeA?.peers.isEmpty == true)
        let (connectionB, welcomeB) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        let listed = try #require(welcomeB?.peers.first)
        #expect(welcomeB?.peers.count == 1)
        #expect(listed.publicKey == a.publicKey && listed.name == "a" && listed.ipv4 == welcomeA?.me.ipv4)
        #expect(joined(hubs[0].take(connectionA)) == [b.publicKey])
        #expect(hubs[1].take(connectionB).isEmpty)
        #expect(hubs[1].router.connectedPeers(in: "home").map(\.publicKey).sorted() == [a.publicKey, b.publicKey].sorted())
    }

    @Test("a signal crosses hubs both ways with the sender stamped by the sender's hub, once even when carried twice")
    func relayAcrossHubs() {
        let (bus, hubs, token) = cluster()
        bus.duplicates = true
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA)
        #expect(joined(hubs[1].take(connectionB)) == [a.publicKey], "a's claim arrived after b's welcome")
        let box = RouterHarness.box(3)
        hubs[0].send(connectionA, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: box, id: "o1")))
        #expect(hubs[0].take(connectionA).isEmpty, "no peer_not_found: the peer is on another hub")
        bus.pump()
        #expect(hubs[1].take(connectionB) == [.signal(RelayedSignal(kind: .offer, from: a.publicKey, sealed: box))])
        hubs[1].send(connectionB, .signal(OutgoingSignal(kind: .answer, to: a.publicKey, sealed: box)))
        bus.pump()
        #expect(hubs[0].take(connectionA) == [.signal(RelayedSignal(kind: .answer, from: b.publicKey, sealed: box))])
        #expect(hubs[0].router.metrics.relayed[.offer] == 1 && hubs[1].router.metrics.relayed[.offer] == 1)
    }

    @Test("a signal to a key connected nowhere is peer_not_found and publishes nothing")
    func relayToNobody() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        bus.pump()
        hubs[0].send(connectionA, .signal(OutgoingSignal(kind: .offer, to: PrivateKey.generate().publicKey, sealed: RouterHarness.box(), id: "x")))
        #expect(errorCodes(hubs[0].take(connectionA)) == ["peer_not_found"])
        #expect(hubs[0].outbox.isEmpty)
    }

    @Test("the same key joining hub 1 while live on hub 2: hub 2 closes it with replaced, nobody sees peer_left")
    func replacementAcrossHubs() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionC, _) = hubs[1].join(network: "home", token: token, key: c, name: "c")
        let (oldB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA); _ = hubs[1].take(connectionC)
        let (newB, welcome) = hubs[0].join(network: "home", token: token, key: b, name: "b")
        #expect(welcome != nil)
        bus.pump()
        #expect(hubs[1].closeCodes[oldB] == HubCloseCode.replaced)
        #expect(errorCodes(hubs[1].take(oldB)) == ["replaced"])
        hubs[1].close(oldB)  // the transport confirms the close: its cleanup must not announce anything
        bus.pump()
        let seenByA = hubs[0].take(connectionA), seenByC = hubs[1].take(connectionC)
        #expect(left(seenByA).isEmpty && left(seenByC).isEmpty)
        #expect(joined(seenByA) == [b.publicKey] && joined(seenByC) == [b.publicKey], "a replacement is announced as a join, as on one hub")
        // Signals for b now go to its new session.
        hubs[1].send(connectionC, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: RouterHarness.box())))
        bus.pump()
        #expect(hubs[0].take(newB).count == 1)
        #expect(hubs[1].router.metrics.connectedPeers == 1)
    }

    @Test("a peer leaving hub 2 is announced on hub 1 with its reason")
    func departureAcrossHubs() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA)
        hubs[1].close(connectionB, cause: .heartbeatTimeout)
        bus.pump()
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
        #expect(hubs[0].router.connectedPeers(in: "home").map(\.publicKey) == [a.publicKey])
    }

    @Test("a peer that left another hub is announced revoked by every hub when its token or its key is revoked")
    func departedOnAnotherHubRevoked() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let bToken = hubs[0].directory.addToken(network: "home", id: "b")
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hubs[1].join(network: "home", token: bToken, key: b, name: "b")
        let (connectionC, _) = hubs[1].join(network: "home", token: token, key: c, name: "c")
        bus.pump()
        hubs[1].close(connectionB, cause: .heartbeatTimeout)
        bus.pump()
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
        _ = hubs[1].take(connectionC)

        // Its token revoked: b's own hub tells its sessions, and hub 1 its own (b's claim named its token).
        hubs[0].directory.revokeToken("b")
        for hub in hubs { hub.tick() }
        bus.pump()
        #expect(hubs[1].take(connectionC) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))])
        #expect(hubs[0].take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))])

        // A key revoked after its session ended on hub 2: hub 1 tells its own sessions too.
        let d = PrivateKey.generate()
        let (connectionD, _) = hubs[1].join(network: "home", token: token, key: d, name: "d")
        bus.pump()
        _ = hubs[0].take(connectionA); _ = hubs[1].take(connectionC)
        hubs[1].close(connectionD)
        bus.pump()
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: d.publicKey, reason: "disconnected")])
        _ = hubs[1].take(connectionC)
        hubs[0].directory.revokePeer(d.publicKey, in: "home")
        for hub in hubs { hub.tick() }
        bus.pump()
        let revoked = PeerLeft(publicKey: d.publicKey, reason: "revoked")
        #expect(hubs[0].take(connectionA) == [.peerLeft(revoked)])
        #expect(hubs[1].take(connectionC) == [.peerLeft(revoked)])
    }

    @Test("a revocation is repeated to later joins on every hub, until the key is admitted again on any of them")
    func revocationRepeatedAcrossHubs() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let bToken = hubs[0].directory.addToken(network: "home", id: "b")
        let (connectionB, _) = hubs[1].join(network: "home", token: bToken, key: b, name: "b")
        bus.pump()
        hubs[0].directory.revokeToken("b")
        for hub in hubs { hub.tick() }
        bus.pump()
        hubs[1].close(connectionB)
        bus.pump()
        let revoked = HubMessage.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))
        #expect(hubs[0].joinMessages(network: "home", token: token, key: a).messages.contains(revoked),
                "hub 1 heard it from hub 2's session end")

        // b admitted again and back on hub 2, then gone: hub 1 no longer calls it revoked.
        let again = hubs[0].directory.addToken(network: "home", id: "b2")
        let (back, _) = hubs[1].join(network: "home", token: again, key: b, name: "b")
        bus.pump()
        hubs[1].close(back)
        bus.pump()
        #expect(!hubs[0].joinMessages(network: "home", token: token, key: .generate()).messages.contains(revoked))
    }

    @Test("a peer that left one hub and is back on another is no departure: its revocation is announced once")
    func departedThenBackElsewhere() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (first, _) = hubs[0].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        hubs[0].close(first)  // b leaves hub 1 ...
        bus.pump()
        _ = hubs[1].join(network: "home", token: token, key: b, name: "b")  // ... and comes back on hub 2
        bus.pump()
        _ = hubs[0].take(connectionA)
        hubs[0].directory.revokePeer(b.publicKey, in: "home")
        for hub in hubs { hub.tick() }
        bus.pump()
        for hub in hubs { hub.tick() }
        bus.pump()
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: b.publicKey, reason: "revoked")])
    }

    @Test("a hub that falls silent: after the deadline the others announce its peers left (timeout), except a peer already back elsewhere")
    func deadHub() {
        let (bus, hubs, token) = cluster(hubs: 3)
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        _ = hubs[1].join(network: "home", token: token, key: b, name: "b")
        _ = hubs[1].join(network: "home", token: token, key: c, name: "c")
        bus.pump()
        _ = hubs[0].take(connectionA)
        bus.silenced = [1]  // hub 2 is killed: no goodbye
        let (connectionC, _) = hubs[2].join(network: "home", token: token, key: c, name: "c")  // c fails over to hub 3
        bus.pump()
        #expect(joined(hubs[0].take(connectionA)) == [c.publicKey])
        for _ in 0..<4 {
            for hub in [hubs[0], hubs[2]] { hub.clock.advance(1); hub.tick() }
            bus.pump()
        }
        #expect(hubs[0].take(connectionA).isEmpty, "nobody is declared left before the deadline")
        for _ in 0..<2 {
            for hub in [hubs[0], hubs[2]] { hub.clock.advance(1); hub.tick() }
            bus.pump()
        }
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
        #expect(left(hubs[2].take(connectionC)) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
        #expect(hubs[0].router.connectedPeers(in: "home").map(\.publicKey).sorted() == [a.publicKey, c.publicKey].sorted())
    }

    @Test("while its bus is down a hub declares nobody dead")
    func frozenWhileDisconnected() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        _ = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA)
        hubs[0].setClusterConnected(false)
        bus.silenced = [0]
        for _ in 0..<10 { hubs[0].clock.advance(1); hubs[0].tick() }
        #expect(hubs[0].take(connectionA).isEmpty)
        bus.silenced = []
        hubs[0].setClusterConnected(true)
        bus.pump()
        hubs[0].clock.advance(1); hubs[0].tick()
        #expect(hubs[0].take(connectionA).isEmpty)
    }

    @Test("a hub that starts late learns the others' sessions from their snapshots")
    func lateHubGetsSnapshot() {
        let directory = InMemoryDirectory()
        directory.addNetwork("home")
        let token = directory.addToken(network: "home")
        let bus = FakeClusterBus()
        let first = RouterHarness(directory: directory) { $0.clusterHubID = "hub-1-01" }
        bus.add(first)
        let a = PrivateKey.generate()
        _ = first.join(network: "home", token: token, key: a, name: "a")
        bus.pump()
        let second = RouterHarness(directory: directory) { $0.clusterHubID = "hub-2-02" }
        bus.add(second)
        bus.pump()
        let (_, welcome) = second.join(network: "home", token: token, key: PrivateKey.generate(), name: "b")
        #expect(welcome?.peers.map(\.publicKey) == [a.publicKey])
    }

    @Test("the single hub returns no cluster action")
    func singleHubUnchanged() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let (a, _) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "a")
        hub.send(a, .signal(OutgoingSignal(kind: .offer, to: PrivateKey.generate().publicKey, sealed: RouterHarness.box())))
        hub.close(a)
        hub.clock.advance(10)
        hub.tick()
        #expect(hub.router.cluster == nil)
        #expect(hub.outbox.isEmpty)
    }
}
