import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// Renames made by the administrator from another process reach live sessions on the next tick (PROTOCOL.md §6.13).
@Suite("Routing core: admin renames")
struct HubRouterRenameTests {
    private static func joined(_ messages: [HubMessage]) -> [PeerInfo] {
        messages.compactMap { if case .peerJoined(let info) = $0 { info } else { nil } }
    }

    @Test("the others get a peer_joined with the new name (dns_name only in v3 sessions); the renamed peer nothing; a rejoin keeps it")
    func propagation() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a, name: "laptop", version: ProtocolVersion.v3)
        let (connectionB, _) = hub.join(network: "home", token: token, key: b, name: "desktop", version: ProtocolVersion.v3)
        let (connectionC, _) = hub.join(network: "home", token: token, key: c, name: "old", version: ProtocolVersion.v2)
        hub.tick()
        for connection in [connectionA, connectionB, connectionC] { _ = hub.take(connection) }

        hub.directory.rename(b.publicKey, in: "home", to: "Laptop")
        #expect(hub.take(connectionA).isEmpty, "nothing before the tick")
        hub.tick()
        let toA = Self.joined(hub.take(connectionA))
        #expect(toA.map(\.publicKey) == [b.publicKey] && toA.first?.name == "Laptop" && toA.first?.dnsName == "laptop-2")
        let toC = Self.joined(hub.take(connectionC))
        #expect(toC.map(\.name) == ["Laptop"] && toC.first?.dnsName == nil, "a v2 session gets the name without dns_name")
        #expect(hub.take(connectionB).isEmpty, "the renamed peer itself is told nothing")
        #expect(hub.router.connectedPeers(in: "home").first { $0.publicKey == b.publicKey }?.dnsName == "laptop-2")

        // Ticks without a change do no work and send nothing.
        let queries = hub.directory.renameQueries
        hub.tick(); hub.tick()
        #expect(hub.directory.renameQueries == queries)
        #expect(hub.take(connectionA).isEmpty && hub.take(connectionC).isEmpty)
        // Another change that is no rename reads the renames again but repeats nothing.
        hub.directory.setPolicy(nil, in: "home")
        hub.tick()
        #expect(Self.joined(hub.take(connectionA)).isEmpty)

        // A newcomer's welcome lists the new name; the renamed peer rejoining with its old hello.name keeps the admin's.
        let d = PrivateKey.generate()
        let (connectionD, welcomeD) = hub.join(network: "home", token: token, key: d, name: "d", version: ProtocolVersion.v3)
        #expect(welcomeD?.peers.first { $0.publicKey == b.publicKey }?.dnsName == "laptop-2")
        _ = hub.take(connectionA)
        let (_, welcomeB) = hub.join(network: "home", token: token, key: b, name: "desktop", version: ProtocolVersion.v3)
        #expect(welcomeB?.me.name == "Laptop" && welcomeB?.me.dnsName == "laptop-2")
        #expect(Self.joined(hub.take(connectionA)).map(\.name) == ["Laptop"])
        _ = hub.take(connectionD)
    }

    @Test("a rename is announced only to the sessions the access policy introduces the peer to; an offline peer to nobody")
    func policyAndOffline() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let laptopToken = hub.directory.addToken(network: "home", id: "laptop", tags: ["laptop"])
        let serverToken = hub.directory.addToken(network: "home", id: "server", tags: ["server"])
        let ciToken = hub.directory.addToken(network: "home", id: "ci", tags: ["ci"])
        hub.directory.setPolicy("laptop -> server\n", in: "home")
        let laptop = PrivateKey.generate(), server = PrivateKey.generate(), ci = PrivateKey.generate(), gone = PrivateKey.generate()
        let (connectionLaptop, _) = hub.join(network: "home", token: laptopToken, key: laptop, name: "laptop", version: ProtocolVersion.v3)
        let (connectionServer, _) = hub.join(network: "home", token: serverToken, key: server, name: "server", version: ProtocolVersion.v3)
        let (connectionCI, _) = hub.join(network: "home", token: ciToken, key: ci, name: "ci", version: ProtocolVersion.v3)
        let (connectionGone, _) = hub.join(network: "home", token: serverToken, key: gone, name: "gone", version: ProtocolVersion.v3)
        hub.close(connectionGone)
        hub.tick()
        for connection in [connectionLaptop, connectionServer, connectionCI] { _ = hub.take(connection) }

        hub.directory.rename(server.publicKey, in: "home", to: "db", dnsName: "database")
        hub.directory.rename(gone.publicKey, in: "home", to: "still gone")
        hub.tick()
        let toLaptop = Self.joined(hub.take(connectionLaptop))
        #expect(toLaptop.map(\.name) == ["db"] && toLaptop.first?.dnsName == "database")
        #expect(Self.joined(hub.take(connectionCI)).isEmpty, "ci is not introduced to the server")
        #expect(hub.take(connectionServer).isEmpty)
    }

    @Test("a storage failure while reading renames is retried on the next tick")
    func retriesAfterFailure() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a, name: "a", version: ProtocolVersion.v3)
        _ = hub.join(network: "home", token: token, key: b, name: "b", version: ProtocolVersion.v3)
        hub.tick()
        _ = hub.take(connectionA)
        hub.directory.rename(b.publicKey, in: "home", to: "bee")
        hub.directory.failing = true
        hub.tick()
        hub.directory.failing = false
        #expect(Self.joined(hub.take(connectionA)).isEmpty)
        hub.tick()
        #expect(Self.joined(hub.take(connectionA)).map(\.name) == ["bee"])
    }
}
