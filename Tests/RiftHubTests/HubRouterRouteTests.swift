import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// Subnet routes: advertised at hello, passed on only once approved, approvals reaching live v4 sessions on the next
/// tick (PROTOCOL.md §6.14).
@Suite("Routing core: subnet routes")
struct HubRouterRouteTests {
    private static func joined(_ messages: [HubMessage]) -> [PeerInfo] {
        messages.compactMap { if case .peerJoined(let info) = $0 { info } else { nil } }
    }

    private static func routes(_ texts: String...) -> [SubnetRoute] { texts.map { SubnetRoute($0)! } }

    @Test("unapproved routes never leave the hub; an approval reaches v4 sessions on the next tick, v3 sessions never; revoke removes it")
    func approvalPropagation() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let router = PrivateKey.generate(), laptop = PrivateKey.generate(), old = PrivateKey.generate()
        let (connectionRouter, _) = hub.join(network: "home", token: token, key: router, name: "router", version: ProtocolVersion.v4,
                                             routes: Self.routes("192.168.1.0/24", "fd00:1::/64"))
        let (connectionLaptop, welcome) = hub.join(network: "home", token: token, key: laptop, name: "laptop", version: ProtocolVersion.v4)
        let (connectionOld, _) = hub.join(network: "home", token: token, key: old, name: "old", version: ProtocolVersion.v3)
        #expect(welcome?.peers.first { $0.publicKey == router.publicKey }?.routes == nil, "nothing approved yet")
        #expect(hub.directory.routeStore.advertised["home"]?[router.publicKey] == Self.routes("192.168.1.0/24", "fd00:1::/64"))
        hub.tick()
        for connection in [connectionRouter, connectionLaptop, connectionOld] { _ = hub.take(connection) }

        hub.directory.approveRoute("192.168.1.0/24", for: router.publicKey, in: "home")
        #expect(hub.take(connectionLaptop).isEmpty, "nothing before the tick")
        hub.tick()
        let toLaptop = Self.joined(hub.take(connectionLaptop))
        #expect(toLaptop.map(\.publicKey) == [router.publicKey] && toLaptop.first?.routes == Self.routes("192.168.1.0/24"))
        #expect(hub.take(connectionOld).isEmpty, "a v3 session is told nothing about routes")
        #expect(hub.take(connectionRouter).isEmpty, "the advertising peer itself is told nothing")

        // Ticks without a change send nothing; a newcomer's welcome lists the active route (v4 only).
        hub.tick(); hub.tick()
        #expect(hub.take(connectionLaptop).isEmpty)
        let (_, welcomeNew) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "new", version: ProtocolVersion.v4)
        #expect(welcomeNew?.peers.first { $0.publicKey == router.publicKey }?.routes == Self.routes("192.168.1.0/24"))
        let (_, welcomeOld) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "older", version: ProtocolVersion.v3)
        #expect(welcomeOld?.peers.allSatisfy { $0.routes == nil } == true)
        _ = hub.take(connectionLaptop)

        hub.directory.revokeRoute("192.168.1.0/24", for: router.publicKey, in: "home")
        hub.tick()
        let afterRevoke = Self.joined(hub.take(connectionLaptop))
        #expect(afterRevoke.map(\.publicKey) == [router.publicKey] && afterRevoke.first?.routes == nil)
    }

    @Test("a rejoin replaces the advertisement (written only when it changed); an approved route no longer advertised is not passed on")
    func readvertisement() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let router = PrivateKey.generate(), laptop = PrivateKey.generate()
        _ = hub.join(network: "home", token: token, key: router, name: "router", version: ProtocolVersion.v4, routes: Self.routes("10.1.0.0/16"))
        let (connectionLaptop, _) = hub.join(network: "home", token: token, key: laptop, name: "laptop", version: ProtocolVersion.v4)
        hub.directory.approveRoute("10.1.0.0/16", for: router.publicKey, in: "home")
        hub.tick()
        #expect(Self.joined(hub.take(connectionLaptop)).first?.routes == Self.routes("10.1.0.0/16"))
        let writes = hub.directory.routeStore.writes

        _ = hub.join(network: "home", token: token, key: router, name: "router", version: ProtocolVersion.v4, routes: Self.routes("10.1.0.0/16"))
        #expect(hub.directory.routeStore.writes == writes, "the same advertisement writes nothing")
        #expect(Self.joined(hub.take(connectionLaptop)).first?.routes == Self.routes("10.1.0.0/16"))

        _ = hub.join(network: "home", token: token, key: router, name: "router", version: ProtocolVersion.v4, routes: Self.routes("10.2.0.0/16"))
        #expect(hub.directory.routeStore.writes == writes + 1)
        #expect(Self.joined(hub.take(connectionLaptop)).first.map { $0.routes == nil } == true, "approved but no longer advertised")

        // A v3 hello advertises nothing.
        _ = hub.join(network: "home", token: token, key: router, name: "router", version: ProtocolVersion.v3)
        #expect(hub.directory.routeStore.advertised["home"]?[router.publicKey] == [])
    }

    @Test("an approval is announced only to sessions the access policy introduces the peer to")
    func accessPolicy() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let routerToken = hub.directory.addToken(network: "home", id: "router", tags: ["router"])
        let laptopToken = hub.directory.addToken(network: "home", id: "laptop", tags: ["laptop"])
        let ciToken = hub.directory.addToken(network: "home", id: "ci", tags: ["ci"])
        hub.directory.setPolicy("laptop -> router\n", in: "home")
        let router = PrivateKey.generate()
        _ = hub.join(network: "home", token: routerToken, key: router, name: "router", version: ProtocolVersion.v4, routes: Self.routes("10.1.0.0/16"))
        let (connectionLaptop, _) = hub.join(network: "home", token: laptopToken, key: PrivateKey.generate(), name: "laptop", version: ProtocolVersion.v4)
        let (connectionCI, _) = hub.join(network: "home", token: ciToken, key: PrivateKey.generate(), name: "ci", version: ProtocolVersion.v4)
        hub.tick()
        _ = hub.take(connectionLaptop); _ = hub.take(connectionCI)
        hub.directory.approveRoute("10.1.0.0/16", for: router.publicKey, in: "home")
        hub.tick()
        #expect(Self.joined(hub.take(connectionLaptop)).first?.routes == Self.routes("10.1.0.0/16"))
        #expect(Self.joined(hub.take(connectionCI)).isEmpty)
    }
}
