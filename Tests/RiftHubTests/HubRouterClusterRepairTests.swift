import RiftCluster
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: hub cluster changes by the administrator, lost presence, ephemeral peers, moved keys")
struct HubRouterClusterRepairTests {
    private func cluster(hubs count: Int = 2, configure: @escaping (inout HubRouterConfiguration) -> Void = { _ in })
        -> (FakeClusterBus, [RouterHarness], token: String) {
        FakeClusterBus.cluster(hubs: count, configure: configure)
    }

    private func joined(_ messages: [HubMessage]) -> [PeerInfo] {
        messages.compactMap { if case .peerJoined(let peer) = $0 { peer } else { nil } }
    }

    private func left(_ messages: [HubMessage]) -> [PeerLeft] {
        messages.compactMap { if case .peerLeft(let left) = $0 { left } else { nil } }
    }

    /// Moves every hub's clock by `seconds` and ticks them all, then lets the bus settle.
    private func advance(_ seconds: Double, _ hubs: [RouterHarness], _ bus: FakeClusterBus) {
        for hub in hubs { hub.clock.advance(seconds); hub.tick() }
        bus.pump()
    }

    @Test("a rename, a route approval and an exit-node approval of a peer on hub 1 reach the sessions on hub 2 that see them")
    func adminChangesCrossHubs() throws {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate(), old = PrivateKey.generate()
        let routes = [SubnetRoute("192.168.1.0/24")!]
        _ = hubs[0].join(network: "home", token: token, key: a, name: "a", version: ProtocolVersion.v5, routes: routes, exitNode: true)
        let (connectionB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b", version: ProtocolVersion.v5)
        let (connectionOld, _) = hubs[1].join(network: "home", token: token, key: old, name: "old", version: ProtocolVersion.v3)
        advance(1, hubs, bus)
        _ = hubs[1].take(connectionB); _ = hubs[1].take(connectionOld)

        hubs[0].directory.rename(a.publicKey, in: "home", to: "printer", dnsName: "printer")
        advance(0.25, hubs, bus)
        let renamedForB = try #require(joined(hubs[1].take(connectionB)).first)
        #expect(renamedForB.publicKey == a.publicKey && renamedForB.name == "printer" && renamedForB.dnsName == "printer")
        #expect(joined(hubs[1].take(connectionOld)).map(\.name) == ["printer"], "every version is told a new name")

        hubs[0].directory.approveRoute("192.168.1.0/24", for: a.publicKey, in: "home")
        advance(0.25, hubs, bus)
        #expect(joined(hubs[1].take(connectionB)).map(\.routes) == [routes])
        #expect(hubs[1].take(connectionOld).isEmpty, "a v3 session never sees routes")

        hubs[0].directory.approveExitNode(a.publicKey, in: "home")
        advance(0.25, hubs, bus)
        #expect(joined(hubs[1].take(connectionB)).map(\.exitNode) == [true])
        #expect(hubs[1].take(connectionOld).isEmpty)

        // Ticks without a change publish nothing more than heartbeats.
        advance(0.25, hubs, bus)
        #expect(hubs[1].take(connectionB).isEmpty)
        // A newcomer on hub 2 is welcomed with the changed peer, from hub 2's table.
        let (_, welcome) = hubs[1].join(network: "home", token: token, key: PrivateKey.generate(), name: "new", version: ProtocolVersion.v5)
        let listed = try #require(welcome?.peers.first { $0.publicKey == a.publicKey })
        #expect(listed.name == "printer" && listed.routes == routes && listed.exitNode == true)
    }

    @Test("a lost session_claimed and a lost session_ended are repaired by the origin's snapshot after the gap")
    func lostPresenceRepaired() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA)
        bus.carries = { message, _ in
            switch message.body {
            case .sessionClaimed, .sessionEnded: false
            default: true
            }
        }
        hubs[1].close(connectionB)
        _ = hubs[1].join(network: "home", token: token, key: c, name: "c")
        bus.pump()
        bus.carries = { _, _ in true }
        #expect(hubs[0].take(connectionA).isEmpty, "both messages were lost")
        advance(1, hubs, bus)  // hub 2's next heartbeat shows the gap
        #expect(hubs[0].take(connectionA).isEmpty, "a missing message may still arrive: not yet")
        advance(1, hubs, bus)  // the grace is over: hub 1 asks, hub 2 answers
        let seen = hubs[0].take(connectionA)
        #expect(joined(seen).map(\.publicKey) == [c.publicKey])
        #expect(left(seen) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
        #expect(hubs[0].router.connectedPeers(in: "home").map(\.publicKey).sorted() == [a.publicKey, c.publicKey].sorted())
        for _ in 0..<5 { advance(1, hubs, bus) }
        #expect(hubs[0].take(connectionA).isEmpty, "repaired once")
    }

    @Test("a hub whose bus comes back asks every hub for its sessions and learns what it missed")
    func reconnectionRepairs() {
        let (bus, hubs, token) = cluster()
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hubs[0].join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[0].take(connectionA)
        hubs[0].setClusterConnected(false)
        bus.silenced = [0]
        hubs[1].close(connectionB)
        bus.pump()
        bus.silenced = []
        hubs[0].setClusterConnected(true)
        bus.pump()
        #expect(left(hubs[0].take(connectionA)) == [PeerLeft(publicKey: b.publicKey, reason: "timeout")])
    }

    @Test("an ephemeral peer connected to hub 2 is never removed by hub 1; once gone past the grace it is")
    func ephemeralPeerOnAnotherHub() {
        let (bus, hubs, _) = cluster { $0.ephemeralGraceSeconds = 10 }
        let directory = hubs[0].directory
        let token = directory.addToken(network: "home", id: "eph")
        directory.tokenLimits["eph"] = TokenLimits(maximumKeys: nil, ephemeral: true)
        let e = PrivateKey.generate()
        let (connection, welcome) = hubs[1].join(network: "home", token: token, key: e, name: "e")
        #expect(welcome != nil)
        bus.pump()
        for _ in 0..<20 { advance(1, hubs, bus) }  // its last-seen time (written at admission) is older than the grace
        #expect(directory.peers["home"]?[e.publicKey] != nil, "connected to hub 2: kept")
        hubs[1].close(connection)
        bus.pump()
        for _ in 0..<12 { advance(1, hubs, bus) }
        #expect(directory.peers["home"]?[e.publicKey] == nil, "gone longer than the grace: removed")
    }

    @Test("a signal reaching a hub the key has left is passed on once to the hub holding it now")
    func signalForwardedOnce() {
        let (bus, hubs, token) = cluster(hubs: 3)
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        _ = hubs[0].join(network: "home", token: token, key: a, name: "a")
        _ = hubs[1].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        let (movedB, _) = hubs[2].join(network: "home", token: token, key: b, name: "b")
        bus.pump()
        _ = hubs[2].take(movedB)
        // Sent by hub 1 before it heard of the move: it reaches hub 2.
        let relayed = RelayedSignal(kind: .offer, from: a.publicKey, sealed: RouterHarness.box())
        hubs[1].receive(ClusterMessage(hub: "hub-1-00000001", sequence: 500, body: .signal(ClusterSignal(network: "home", to: b.publicKey, signal: relayed))))
        #expect(hubs[1].outbox.map(\.subject) == [ClusterSubject.signals(hubID: "hub-3-00000003")])
        bus.pump()
        #expect(hubs[2].take(movedB) == [.signal(relayed)])
        // An already forwarded signal is never passed on again.
        hubs[1].receive(ClusterMessage(hub: "hub-1-00000001", sequence: 501, body: .signal(ClusterSignal(network: "home", to: b.publicKey, signal: relayed, forwarded: true))))
        #expect(hubs[1].outbox.isEmpty)
    }
}
