import RiftProtocol
import RiftTestSupport
import Testing

/// `HubMessage.encoded(peerText:)` writes the same bytes as `encoded()` when given each peer's JSONWriter text.
@Suite("Hub messages with pre-encoded peer objects")
struct PeerTextEncodingTests {
    static let vectors: [(name: String, value: JSONValue)] = (try? GoldenVectors.load("messages")) ?? []

    static func fresh(_ peer: PeerInfo) -> String { JSONWriter.string(peer.json) }

    @Test("every decodable hub vector encodes alike both ways")
    func hubVectors() throws {
        var checked = 0
        for (_, vector) in Self.vectors where vector["direction"]?.stringValue == "hub" {
            guard let frame = vector["frame"]?.stringValue, let message = try? HubMessage.decode(frame) else { continue }
            #expect(message.encoded(peerText: Self.fresh) == message.encoded())
            checked += 1
        }
        #expect(checked >= 20)
    }

    @Test("welcomes with and without a DNS domain, no peers or many, TURN servers; peer_joined")
    func constructed() throws {
        let key = { (seed: UInt8) in try! PublicKey(bytes: Array(repeating: seed, count: 32)) }
        var peers: [PeerInfo] = []
        for index in 1...5 {
            var peer = PeerInfo(publicKey: key(UInt8(index)), name: "peer \"\(index)\"\n", ipv4: IPv4Address("100.64.0.\(index)")!,
                                ipv6: IPv6Address("fd00::\(index)")!)
            if index == 2 { peer.allowIn = [PortRule("tcp/22")!] }
            if index > 3 { peer.dnsName = "peer-\(index)" }
            if index == 4 { peer.routes = [SubnetRoute("10.1.0.0/16")!] }
            if index == 5 { peer.exitNode = true }
            peers.append(peer)
        }
        let ice = ICEServers(stun: ["stun:hub.example:3478"],
                             turn: [TURNServer(urls: ["turn:hub.example:3478"], username: "1700000000:x", credential: "c/+=", expiresAt: 1_700_000_000)])
        for (listed, domain) in [(0, nil), (1, "home.rift"), (4, nil), (4, "a.b")] as [(Int, String?)] {
            let welcome = HubMessage.welcome(Welcome(
                version: 5, network: "home", me: peers[0], ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                ipv6Prefix: IPv6Prefix("fd00::/48")!, peers: Array(peers.dropFirst().prefix(listed)), ice: ice,
                heartbeatSeconds: 20, dnsDomain: domain))
            #expect(welcome.encoded(peerText: Self.fresh) == welcome.encoded())
        }
        for peer in peers {
            #expect(HubMessage.peerJoined(peer).encoded(peerText: Self.fresh) == HubMessage.peerJoined(peer).encoded())
        }
    }
}
