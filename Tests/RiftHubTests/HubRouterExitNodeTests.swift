import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// Exit nodes: advertised at hello, passed on only once approved, changes reaching live v5 sessions on the next tick
/// (PROTOCOL.md §6.15).
@Suite("Routing core: exit nodes")
struct HubRouterExitNodeTests {
    private static func joined(_ messages: [HubMessage]) -> [PeerInfo] {
        messages.compactMap { if case .peerJoined(let info) = $0 { info } else { nil } }
    }

    @Test("an unapproved exit node is never announced; an approval reaches v5 sessions on the next tick, v4 sessions never; revoke withdraws it")
    func approvalPropagation() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let exit = PrivateKey.generate(), laptop = PrivateKey.generate(), old = PrivateKey.generate()
        let (connectionExit, _) = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5, exitNode: true)
        let (connectionLaptop, welcome) = hub.join(network: "home", token: token, key: laptop, name: "laptop", version: ProtocolVersion.v5)
        let (connectionOld, _) = hub.join(network: "home", token: token, key: old, name: "old", version: ProtocolVersion.v4)
        #expect(welcome?.peers.first { $0.publicKey == exit.publicKey }.map { $0.exitNode == nil } == true, "nothing approved yet")
        #expect(hub.directory.exitNodesAdvertised["home"] == [exit.publicKey])
        hub.tick()
        for connection in [connectionExit, connectionLaptop, connectionOld] { _ = hub.take(connection) }

        hub.directory.approveExitNode(exit.publicKey, in: "home")
        #expect(hub.take(connectionLaptop).isEmpty, "nothing before the tick")
        hub.tick()
        let toLaptop = Self.joined(hub.take(connectionLaptop))
        #expect(toLaptop.map(\.publicKey) == [exit.publicKey] && toLaptop.first?.exitNode == true)
        #expect(hub.take(connectionOld).isEmpty, "a v4 session is told nothing about exit nodes")
        #expect(hub.take(connectionExit).isEmpty, "the exit node itself is told nothing")

        // Ticks without a change send nothing; a newcomer's welcome carries exit_node (v5 only).
        hub.tick(); hub.tick()
        #expect(hub.take(connectionLaptop).isEmpty)
        let (_, welcomeNew) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "new", version: ProtocolVersion.v5)
        #expect(welcomeNew?.peers.first { $0.publicKey == exit.publicKey }?.exitNode == true)
        let (_, welcomeOld) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "older", version: ProtocolVersion.v4)
        #expect(welcomeOld?.peers.allSatisfy { $0.exitNode == nil } == true)
        #expect(welcomeOld?.peers.isEmpty == false)
        _ = hub.take(connectionLaptop); _ = hub.take(connectionOld)

        hub.directory.revokeExitNode(exit.publicKey, in: "home")
        hub.tick()
        let afterRevoke = Self.joined(hub.take(connectionLaptop))
        #expect(afterRevoke.map(\.publicKey) == [exit.publicKey] && afterRevoke.first.map { $0.exitNode == nil } == true)
        #expect(hub.take(connectionOld).isEmpty)
    }

    @Test("a rejoin replaces the advertisement (written only when it changed); an approval given before the advertisement takes effect at the hello")
    func readvertisement() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let exit = PrivateKey.generate()
        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5)
        let (connectionLaptop, _) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "laptop", version: ProtocolVersion.v5)
        hub.directory.approveExitNode(exit.publicKey, in: "home")
        hub.tick()
        #expect(hub.take(connectionLaptop).isEmpty, "approved but not advertised: nothing changes for the others")
        #expect(hub.directory.exitNodeWrites == 0, "advertising nothing where nothing was advertised writes nothing")

        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5, exitNode: true)
        #expect(hub.directory.exitNodeWrites == 1)
        #expect(Self.joined(hub.take(connectionLaptop)).first?.exitNode == true)
        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5, exitNode: true)
        #expect(hub.directory.exitNodeWrites == 1, "the same advertisement writes nothing")
        #expect(Self.joined(hub.take(connectionLaptop)).first?.exitNode == true)

        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5, exitNode: false)
        #expect(hub.directory.exitNodeWrites == 2)
        #expect(Self.joined(hub.take(connectionLaptop)).first.map { $0.exitNode == nil } == true, "approved but no longer advertised")

        // A v4 hello advertises no exit node.
        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v5, exitNode: true)
        _ = hub.join(network: "home", token: token, key: exit, name: "exit", version: ProtocolVersion.v4)
        #expect(hub.directory.exitNodesAdvertised["home"]?.contains(exit.publicKey) == false)
    }

    @Test("several exit nodes at once; an approval is announced only to sessions the access policy introduces the peer to")
    func accessPolicy() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let exitToken = hub.directory.addToken(network: "home", id: "exit", tags: ["exit"])
        let laptopToken = hub.directory.addToken(network: "home", id: "laptop", tags: ["laptop"])
        let ciToken = hub.directory.addToken(network: "home", id: "ci", tags: ["ci"])
        hub.directory.setPolicy("laptop -> exit\n", in: "home")
        let first = PrivateKey.generate(), second = PrivateKey.generate()
        _ = hub.join(network: "home", token: exitToken, key: first, name: "exit-1", version: ProtocolVersion.v5, exitNode: true)
        _ = hub.join(network: "home", token: exitToken, key: second, name: "exit-2", version: ProtocolVersion.v5, exitNode: true)
        let (connectionLaptop, _) = hub.join(network: "home", token: laptopToken, key: PrivateKey.generate(), name: "laptop", version: ProtocolVersion.v5)
        let (connectionCI, _) = hub.join(network: "home", token: ciToken, key: PrivateKey.generate(), name: "ci", version: ProtocolVersion.v5)
        hub.tick()
        _ = hub.take(connectionLaptop); _ = hub.take(connectionCI)
        hub.directory.approveExitNode(first.publicKey, in: "home")
        hub.directory.approveExitNode(second.publicKey, in: "home")
        hub.tick()
        let told = Self.joined(hub.take(connectionLaptop))
        #expect(Set(told.map(\.publicKey)) == [first.publicKey, second.publicKey] && told.allSatisfy { $0.exitNode == true })
        #expect(Self.joined(hub.take(connectionCI)).isEmpty)
    }
}
