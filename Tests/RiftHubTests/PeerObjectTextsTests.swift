import RiftHub
import RiftProtocol
import Testing

/// The hub's cache of peer object texts gives a fresh encoding whenever the peer's description changed.
@Suite("Peer object texts")
struct PeerObjectTextsTests {
    static let key = try! PublicKey(bytes: Array(repeating: 3, count: 32))
    static let peer = PeerInfo(publicKey: key, name: "laptop", ipv4: IPv4Address("100.64.0.2")!, ipv6: IPv6Address("fd00::2")!,
                               dnsName: "laptop")

    static func fresh(_ peer: PeerInfo) -> String { JSONWriter.string(peer.json) }

    @Test("a rename, routes, exit node, allow_in or new addresses give the new text; the same description the cached one")
    func changes() {
        var texts = PeerObjectTexts()
        #expect(texts.text(of: Self.peer) == Self.fresh(Self.peer))
        #expect(texts.text(of: Self.peer) == Self.fresh(Self.peer) && texts.count == 1)
        var changed: [PeerInfo] = []
        var renamed = Self.peer; renamed.name = "Laptop"; renamed.dnsName = "laptop-2"; changed.append(renamed)
        var routed = Self.peer; routed.routes = [SubnetRoute("192.168.1.0/24")!]; changed.append(routed)
        var unrouted = routed; unrouted.routes = nil; changed.append(unrouted)
        var exit = Self.peer; exit.exitNode = true; changed.append(exit)
        var restricted = Self.peer; restricted.allowIn = [PortRule("tcp/22")!]; changed.append(restricted)
        var closed = Self.peer; closed.allowIn = []; changed.append(closed)
        var readmitted = Self.peer; readmitted.ipv4 = IPv4Address("100.64.0.9")!; readmitted.ipv6 = IPv6Address("fd00::9")!
        changed.append(readmitted)
        var older = Self.peer; older.dnsName = nil; changed.append(older)
        for (peer, next) in zip(changed, changed.dropFirst() + [Self.peer]) {
            #expect(texts.text(of: peer) == Self.fresh(peer))
            #expect(texts.text(of: next) == Self.fresh(next))
        }
        #expect(texts.count == 1, "one entry per key")
    }

    @Test("bounded: it starts over at its capacity and stays correct")
    func capacity() throws {
        var texts = PeerObjectTexts(capacity: 4)
        let peers = try (1...10).map { index in
            PeerInfo(publicKey: try PublicKey(bytes: Array(repeating: UInt8(index), count: 32)), name: "p\(index)",
                     ipv4: IPv4Address("100.64.0.\(index)")!, ipv6: IPv6Address("fd00::\(index)")!)
        }
        for peer in peers + peers.reversed() {
            #expect(texts.text(of: peer) == Self.fresh(peer))
            #expect(texts.count <= 4)
        }
    }

    @Test("encode gives encoded()'s bytes for every kind of message")
    func messages() {
        var texts = PeerObjectTexts()
        let welcome = Welcome(version: 3, network: "home", me: Self.peer, ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                              ipv6Prefix: IPv6Prefix("fd00::/48")!, peers: [Self.peer], ice: ICEServers(), heartbeatSeconds: 20,
                              dnsDomain: "home.rift")
        let messages: [HubMessage] = [
            .welcome(welcome), .peerJoined(Self.peer), .peerLeft(PeerLeft(publicKey: Self.key, reason: "left")),
            .error(ErrorFrame(code: "peer_not_found", message: "no", ref: "1")),
            .signal(RelayedSignal(kind: .offer, from: Self.key, sealed: SealedBox(nonce: Array(repeating: 1, count: 24), ciphertext: Array(0..<20)))),
        ]
        for message in messages + messages { #expect(texts.encode(message) == message.encoded()) }
    }
}
