import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: presence")
struct HubRouterPresenceTests {
    private func network(_ hub: RouterHarness, _ name: String = "home") -> String {
        hub.directory.addNetwork(name)
        return hub.directory.addToken(network: name)
    }

    @Test("joiners are announced to those present, and those present are listed to joiners")
    func joinersAnnouncedBothWays() throws {
        let hub = RouterHarness()
        let token = network(hub)
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, welcomeA) = hub.join(network: "home", token: token, key: a, name: "a")
        #expect(welcomeA?.peers == [])
        let (connectionB, welcomeB) = hub.join(network: "home", token: token, key: b, name: "b")
        let infoA = try #require(welcomeA?.me), infoB = try #require(welcomeB?.me)
        #expect(welcomeB?.peers == [infoA])
        #expect(hub.take(connectionA) == [.peerJoined(infoB)])
        let (_, welcomeC) = hub.join(network: "home", token: token, key: c, name: "c")
        let infoC = try #require(welcomeC?.me)
        #expect(Set(welcomeC?.peers ?? []) == [infoA, infoB])
        #expect(hub.take(connectionA) == [.peerJoined(infoC)])
        #expect(hub.take(connectionB) == [.peerJoined(infoC)])
        #expect(Set([infoA.ipv4, infoB.ipv4, infoC.ipv4]).count == 3)
    }

    @Test("a disconnect is announced as disconnected, a heartbeat timeout as timeout")
    func departures() throws {
        let hub = RouterHarness()
        let token = network(hub)
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a)
        let (connectionB, _) = hub.join(network: "home", token: token, key: b)
        let (connectionC, _) = hub.join(network: "home", token: token, key: c)
        _ = hub.take(connectionA)
        hub.close(connectionB)
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "disconnected"))])
        hub.close(connectionC, cause: .heartbeatTimeout)
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: c.publicKey, reason: "timeout"))])
        #expect(hub.router.connectedPeers(in: "home").map(\.publicKey) == [a.publicKey])
        hub.close(connectionB)  // a second close report changes nothing
        #expect(hub.take(connectionA).isEmpty)
    }

    @Test("a second connection with the same key replaces the first with no false peer_left")
    func duplicateKeyReplacement() throws {
        let hub = RouterHarness()
        let token = network(hub)
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (old, firstWelcome) = hub.join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hub.join(network: "home", token: token, key: b, name: "b")
        _ = hub.take(old)
        let (new, welcome) = hub.join(network: "home", token: token, key: a, name: "a")
        #expect(welcome?.me == firstWelcome?.me, "same key, same addresses")
        #expect(welcome?.peers.map(\.publicKey) == [b.publicKey], "the new connection does not see itself")
        #expect(errorCodes(hub.take(old)) == ["replaced"])
        #expect(hub.closeCodes[old] == HubCloseCode.replaced)
        #expect(hub.take(connectionB) == [.peerJoined(try #require(welcome?.me))], "the others see a re-join, never a leave")
        // The old connection's cleanup must not remove the new entry or announce a departure.
        hub.close(old)
        #expect(hub.take(connectionB).isEmpty)
        #expect(hub.router.connection(holding: a.publicKey, in: "home") == new)
        #expect(hub.router.metrics.connectedPeers == 2)
        // Signals reach the new connection.
        hub.send(connectionB, .signal(OutgoingSignal(kind: .offer, to: a.publicKey, sealed: RouterHarness.box())))
        #expect(hub.take(new) == [.signal(RelayedSignal(kind: .offer, from: b.publicKey, sealed: RouterHarness.box()))])
        // Messages from the replaced connection are ignored.
        hub.send(old, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: RouterHarness.box())))
        #expect(hub.take(connectionB).isEmpty)
        hub.close(new)
        #expect(hub.take(connectionB) == [.peerLeft(PeerLeft(publicKey: a.publicKey, reason: "disconnected"))])
    }

    @Test("a replacement under a new name is announced with the new name")
    func replacementWithNewName() throws {
        let hub = RouterHarness()
        let token = network(hub)
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        _ = hub.join(network: "home", token: token, key: a, name: "old-name")
        let (connectionB, _) = hub.join(network: "home", token: token, key: b, name: "b")
        let (_, welcome) = hub.join(network: "home", token: token, key: a, name: "new-name")
        let renamed = try #require(welcome?.me)
        #expect(renamed.name == "new-name")
        #expect(hub.take(connectionB) == [.peerJoined(renamed)])
    }

    @Test("addresses are stable per key and distinct between keys")
    func stableAddresses() throws {
        let hub = RouterHarness()
        let token = network(hub)
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (first, welcomeA) = hub.join(network: "home", token: token, key: a)
        let (_, welcomeB) = hub.join(network: "home", token: token, key: b)
        hub.close(first)
        let (_, again) = hub.join(network: "home", token: token, key: a)
        #expect(again?.me.ipv4 == welcomeA?.me.ipv4)
        #expect(again?.me.ipv6 == welcomeA?.me.ipv6)
        #expect(welcomeB?.me.ipv4 != welcomeA?.me.ipv4)
    }

    @Test("networks are isolated: no announcements, listings or relays across them")
    func isolation() throws {
        let hub = RouterHarness()
        let homeToken = network(hub, "home")
        let workToken = network(hub, "work")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: homeToken, key: a)
        let (connectionB, welcomeB) = hub.join(network: "work", token: workToken, key: b)
        #expect(welcomeB?.peers == [])
        #expect(hub.take(connectionA).isEmpty)
        hub.send(connectionB, .signal(OutgoingSignal(kind: .offer, to: a.publicKey, sealed: RouterHarness.box(), id: "x")))
        #expect(errorCodes(hub.take(connectionB)) == ["peer_not_found"])
        #expect(hub.take(connectionA).isEmpty)
        hub.close(connectionB)
        #expect(hub.take(connectionA).isEmpty)
        // A home token does not open work.
        let crossing = hub.open(network: "work", token: homeToken)
        #expect(errorCodes(hub.take(crossing)) == ["unauthorized"])
    }

    @Test("shutdown tells everyone and closes with 1001, without announcing departures")
    func shutdown() {
        let hub = RouterHarness()
        let token = network(hub)
        let (a, _) = hub.join(network: "home", token: token, key: .generate())
        let (b, _) = hub.join(network: "home", token: token, key: .generate())
        _ = hub.take(a)
        hub.perform(hub.router.shutdown())
        #expect(errorCodes(hub.take(a)) == ["shutting_down"])
        #expect(errorCodes(hub.take(b)) == ["shutting_down"])
        #expect(hub.closeCodes[a] == 1001 && hub.closeCodes[b] == 1001)
        hub.close(a)
        #expect(hub.take(b).isEmpty)
        let late = hub.open(network: "home", token: token)
        #expect(errorCodes(hub.take(late)) == ["shutting_down"])
    }
}
