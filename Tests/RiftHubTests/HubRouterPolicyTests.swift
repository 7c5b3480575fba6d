import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: access policy")
struct HubRouterPolicyTests {
    /// A network with tokens tagged laptop, server, ci and cache, and the policy `laptop -> server`, `ci -> cache:tcp/8080`.
    private final class Network {
        let hub = RouterHarness()
        var tokens: [String: String] = [:]
        var connections: [String: Int] = [:]
        var keys: [String: PrivateKey] = [:]
        var infos: [String: PeerInfo] = [:]

        init(policy: String? = "laptop -> server\nci -> cache:tcp/8080\n") {
            hub.directory.addNetwork("home")
            for tag in ["laptop", "server", "ci", "cache"] { tokens[tag] = hub.directory.addToken(network: "home", id: tag, tags: [tag]) }
            if let policy { hub.directory.setPolicy(policy, in: "home") }
        }

        @discardableResult
        func join(_ name: String, tag: String, version: Int64 = ProtocolVersion.v2) -> Welcome? {
            let key = PrivateKey.generate()
            let (connection, welcome) = hub.join(network: "home", token: tokens[tag]!, key: key, name: name, version: version)
            connections[name] = connection
            keys[name] = key
            infos[name] = welcome?.me
            return welcome
        }

        func key(_ name: String) -> PublicKey { keys[name]!.publicKey }

        /// The peers `name` was told about since the last call, by name, with their allow_in as text: `*` when absent
        /// (everything), else the rules joined by commas (empty: nothing).
        func joined(_ name: String) -> [String: String] {
            var result: [String: String] = [:]
            for message in hub.take(connections[name]!) {
                if case .peerJoined(let info) = message { result[info.name] = info.allowIn.map { $0.map(\.description).joined(separator: ",") } ?? "*" }
            }
            return result
        }
    }

    @Test("welcome and peer_joined list only the peers the policy introduces, each with the allow_in for that recipient")
    func filteredPresence() throws {
        let net = Network()
        net.join("laptop1", tag: "laptop")
        let laptop2 = try #require(net.join("laptop2", tag: "laptop"))
        #expect(laptop2.peers.isEmpty, "two laptops may not reach each other")
        #expect(net.joined("laptop1").isEmpty)
        let server = try #require(net.join("server", tag: "server"))
        #expect(Set(server.peers.map(\.name)) == ["laptop1", "laptop2"])
        #expect(server.peers.allSatisfy { $0.allowIn == nil }, "laptops may open anything on the server")
        let toLaptop1 = net.joined("laptop1")
        #expect(toLaptop1.count == 1 && toLaptop1["server"] == "", "the server may open nothing on a laptop: only replies")
        net.join("ci", tag: "ci")
        let cache = try #require(net.join("cache", tag: "cache"))
        #expect(cache.peers.map(\.name) == ["ci"])
        #expect(cache.peers.first?.allowIn == [PortRule("tcp/8080")!])
        #expect(net.joined("ci") == ["cache": ""])
        #expect(net.joined("server").isEmpty && net.joined("laptop1").isEmpty)
    }

    @Test("a version 1 session is introduced to the same peers but never gets allow_in (it would be an unknown field)")
    func versionOneGetsNoAllowIn() throws {
        let net = Network()
        net.join("ci", tag: "ci", version: ProtocolVersion.v1)
        let cache = try #require(net.join("cache", tag: "cache", version: ProtocolVersion.v1))
        #expect(cache.version == ProtocolVersion.v1)
        #expect(cache.peers.map(\.name) == ["ci"] && cache.peers.first?.allowIn == nil)
        #expect(net.joined("ci") == ["cache": "*"])
    }

    @Test("a signal between a forbidden pair is refused with policy_denied and its id, not relayed; allowed pairs relay both ways")
    func refusedSignals() {
        let net = Network()
        net.join("laptop1", tag: "laptop")
        net.join("laptop2", tag: "laptop")
        net.join("server", tag: "server")
        for name in ["laptop1", "laptop2", "server"] { _ = net.hub.take(net.connections[name]!) }
        net.hub.send(net.connections["laptop1"]!, .signal(OutgoingSignal(kind: .offer, to: net.key("laptop2"), sealed: RouterHarness.box(), id: "o-1")))
        let refused = net.hub.take(net.connections["laptop1"]!)
        guard case .error(let frame)? = refused.first else { Issue.record("expected an error, got \(refused)"); return }
        #expect(frame.code == "policy_denied" && frame.ref == "o-1")
        #expect(net.hub.take(net.connections["laptop2"]!).isEmpty)
        #expect(net.hub.closeCodes[net.connections["laptop1"]!] == nil, "not closed")
        net.hub.send(net.connections["laptop1"]!, .signal(OutgoingSignal(kind: .offer, to: net.key("server"), sealed: RouterHarness.box(), id: "o-2")))
        #expect(net.hub.take(net.connections["server"]!).count == 1)
        net.hub.send(net.connections["server"]!, .signal(OutgoingSignal(kind: .answer, to: net.key("laptop1"), sealed: RouterHarness.box(), id: "a-1")))
        #expect(net.hub.take(net.connections["laptop1"]!).count == 1, "the reverse direction of an introduced pair relays too")
    }

    @Test("peer_left goes only to the peers that were told about the one leaving")
    func departuresFiltered() {
        let net = Network()
        net.join("laptop1", tag: "laptop")
        net.join("laptop2", tag: "laptop")
        net.join("server", tag: "server")
        for name in ["laptop1", "laptop2", "server"] { _ = net.hub.take(net.connections[name]!) }
        net.hub.close(net.connections["laptop1"]!)
        #expect(net.hub.take(net.connections["server"]!) == [.peerLeft(PeerLeft(publicKey: net.key("laptop1"), reason: "disconnected"))])
        #expect(net.hub.take(net.connections["laptop2"]!).isEmpty)
    }

    @Test("a policy change about a peer that left is announced as policy to the sessions that could see it")
    func departedPeerPolicyChange() {
        let net = Network(policy: "laptop -> server\nlaptop -> cache\n")
        net.join("laptop", tag: "laptop")
        net.join("server", tag: "server")
        net.join("cache", tag: "cache")
        net.join("ci", tag: "ci")
        for name in ["laptop", "server", "cache", "ci"] { _ = net.hub.take(net.connections[name]!) }
        net.hub.close(net.connections["laptop"]!)
        #expect(net.hub.take(net.connections["server"]!) == [.peerLeft(PeerLeft(publicKey: net.key("laptop"), reason: "disconnected"))])
        _ = net.hub.take(net.connections["cache"]!)
        // The server may no longer be reached from laptops; caches may, on one port only now.
        net.hub.directory.setPolicy("laptop -> cache:tcp/80\n", in: "home")
        net.hub.tick()
        #expect(net.hub.take(net.connections["server"]!) == [.peerLeft(PeerLeft(publicKey: net.key("laptop"), reason: "policy"))])
        #expect(net.hub.take(net.connections["cache"]!).contains(.peerLeft(PeerLeft(publicKey: net.key("laptop"), reason: "policy"))),
                "its rules changed: the kept tunnel goes, the peer is introduced afresh when it rejoins")
        #expect(net.hub.take(net.connections["ci"]!).isEmpty, "ci never saw the laptop: it learns nothing about it")
        net.hub.directory.setPolicy("laptop -> cache:tcp/80\nci -> cache\n", in: "home")
        net.hub.tick()
        #expect(!net.hub.take(net.connections["cache"]!).contains { if case .peerLeft(let left) = $0 { left.publicKey == net.key("laptop") } else { false } },
                "a change that leaves the pair's rules as they were says nothing about the laptop")
    }

    @Test("a policy change both peers missed off the hub is told to each when it rejoins, for 6 minutes")
    func policyChangeMissedOffTheHub() throws {
        let net = Network(policy: "laptop -> server\nci -> server\n")
        for (name, tag) in [("laptop", "laptop"), ("server", "server"), ("ci", "ci"), ("other", "laptop")] { net.join(name, tag: tag) }
        // Everyone but ci leaves the hub (their tunnels keep working); then the policy separates laptops from servers.
        for name in ["laptop", "server", "other"] { net.hub.close(net.connections[name]!) }
        _ = net.hub.take(net.connections["ci"]!)
        net.hub.directory.setPolicy("ci -> server\n", in: "home")
        net.hub.tick()
        #expect(net.hub.take(net.connections["ci"]!).isEmpty, "ci's access to the server did not change")
        net.hub.clock.advance(60)
        let (laptop, messages) = net.hub.joinMessages(network: "home", token: net.tokens["laptop"]!, key: net.keys["laptop"]!,
                                                      name: "laptop", version: ProtocolVersion.v2)
        #expect(messages.dropFirst() == [.peerLeft(PeerLeft(publicKey: net.key("server"), reason: "policy"))],
                "after the welcome: the server, no longer introduced (other, another laptop, never was)")
        let (server, toServer) = net.hub.joinMessages(network: "home", token: net.tokens["server"]!, key: net.keys["server"]!,
                                                      name: "server", version: ProtocolVersion.v2)
        #expect(toServer.dropFirst().contains(.peerLeft(PeerLeft(publicKey: net.key("other"), reason: "policy"))),
                "the other laptop, still away, goes from the server's view too")
        #expect(!toServer.contains(.peerLeft(PeerLeft(publicKey: net.key("laptop"), reason: "policy"))), "the laptop is back: not departed")
        _ = (laptop, server)
        // Six minutes after the change, a rejoin hears nothing of it (agents keep an absent peer's tunnel 5 minutes).
        net.hub.close(net.connections["ci"]!)
        net.hub.clock.advance(300)
        net.hub.tick()
        let (_, late) = net.hub.joinMessages(network: "home", token: net.tokens["ci"]!, key: net.keys["ci"]!, name: "ci",
                                             version: ProtocolVersion.v2)
        #expect(!late.contains { if case .peerLeft = $0 { true } else { false } }, "\(late)")
    }

    @Test("a policy change reaches live sessions on the next tick: peers leave with reason policy and appear with peer_joined")
    func liveChange() throws {
        let net = Network(policy: nil)
        net.join("laptop1", tag: "laptop")
        net.join("laptop2", tag: "laptop")
        net.join("server", tag: "server")
        for name in ["laptop1", "laptop2", "server"] { _ = net.hub.take(net.connections[name]!) }
        net.hub.directory.setPolicy("laptop -> server:tcp/22", in: "home")
        net.hub.tick()
        #expect(net.hub.take(net.connections["laptop1"]!) == [
            .peerLeft(PeerLeft(publicKey: net.key("laptop2"), reason: "policy")),
            .peerJoined(PeerInfo(publicKey: net.key("server"), name: "server", ipv4: net.infos["server"]!.ipv4, ipv6: net.infos["server"]!.ipv6, allowIn: [])),
        ])
        let toServer = net.joined("server")
        #expect(toServer == ["laptop1": "tcp/22", "laptop2": "tcp/22"], "allow_in changed from everything")
        net.hub.tick()
        #expect(net.joined("laptop1").isEmpty && net.joined("server").isEmpty, "nothing is repeated while nothing changes")
        // A tag change is a change too: laptop2 becomes a server, so laptop1 may reach it.
        net.hub.directory.tag(net.key("laptop2"), in: "home", ["server"])
        net.hub.tick()
        #expect(net.joined("laptop1") == ["laptop2": ""])
        #expect(net.hub.take(net.connections["server"]!) == [.peerLeft(PeerLeft(publicKey: net.key("laptop2"), reason: "policy"))])
        // Removing the policy introduces everyone, unrestricted.
        net.hub.directory.setPolicy(nil, in: "home")
        net.hub.tick()
        #expect(net.joined("server") == ["laptop1": "*", "laptop2": "*"])
        #expect(net.joined("laptop1") == ["laptop2": "*", "server": "*"])
        #expect(net.joined("laptop2") == ["laptop1": "*", "server": "*"])
        net.hub.send(net.connections["laptop1"]!, .signal(OutgoingSignal(kind: .offer, to: net.key("laptop2"), sealed: RouterHarness.box(), id: "o-9")))
        #expect(net.hub.take(net.connections["laptop2"]!).count == 1)
    }

    @Test("a peer keeps the tags it adopted from its first token; without a policy nothing is filtered")
    func noPolicyNoFilter() throws {
        let net = Network(policy: nil)
        net.join("laptop1", tag: "laptop")
        let other = try #require(net.join("ci", tag: "ci"))
        #expect(other.peers.map(\.name) == ["laptop1"] && other.peers[0].allowIn == nil)
        #expect(net.hub.directory.peerTags["home"]?[net.key("laptop1")] == ["laptop"])
    }
}
