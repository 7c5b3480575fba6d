import RiftProtocol
import Testing

@Suite("Subnet routes on the wire (PROTOCOL.md §6.14)")
struct SubnetRouteTests {
    @Test("only canonical prefixes of route lengths parse, and they print as parsed")
    func parsing() {
        for text in ["192.168.1.0/24", "10.0.0.0/8", "203.0.113.7/32", "fd00:1::/64", "2001:db8::/32", "fd00::1/128"] {
            #expect(SubnetRoute(text)?.description == text, "\(text)")
        }
        for text in ["192.168.1.1/24", "0.0.0.0/0", "10.0.0.0/7", "::/0", "fd00::/15", "FD00:1::/64", "fd00:0001::/64",
                     "fd00:1:0:0:0:0:0:0/64", "192.168.1.0", "192.168.1.0/024", "192.168.1.0/+24", "192.168.1.0/33", "fd00::/129",
                     "192.168.01.0/24", "", "/24", "::ffff:1.2.3.4/128", " 10.0.0.0/8"] {
            #expect(SubnetRoute(text) == nil, "\(text)")
        }
    }

    @Test("overlaps: containment either way, same family only")
    func overlaps() {
        let lan = SubnetRoute("192.168.1.0/24")!
        #expect(lan.overlaps(SubnetRoute("192.168.0.0/16")!) && SubnetRoute("192.168.0.0/16")!.overlaps(lan))
        #expect(lan.overlaps(SubnetRoute("192.168.1.128/25")!))
        #expect(!lan.overlaps(SubnetRoute("192.168.2.0/24")!))
        #expect(SubnetRoute("fd00:1::/64")!.overlaps(SubnetRoute("fd00::/16")!))
        #expect(!SubnetRoute("fd00:1::/64")!.overlaps(SubnetRoute("fd00:2::/64")!))
        #expect(!lan.overlaps(SubnetRoute("fd00:1::/64")!))
    }

    private static func helloText(version: Int, routes: String) -> String {
        let key = try! PublicKey(bytes: [UInt8](repeating: 7, count: 32)).base64
        let proof = "{\"nonce\":\"\(Base64.encode([UInt8](repeating: 1, count: 24)))\",\"box\":\"\(Base64.encode([UInt8](repeating: 2, count: 48)))\"}"
        return "{\"type\":\"hello\",\"version\":\(version),\"public_key\":\"\(key)\",\"name\":\"r\",\"proof\":\(proof),\"advertise_routes\":\(routes)}"
    }

    @Test("hello.advertise_routes: decoded and encoded in v4; every refusal has its code")
    func helloField() throws {
        guard case .hello(let hello) = try ClientMessage.decode(Self.helloText(version: 4, routes: "[\"192.168.1.0/24\",\"fd00:1::/64\"]")) else {
            Issue.record("not a hello"); return
        }
        #expect(hello.advertiseRoutes?.map(\.description) == ["192.168.1.0/24", "fd00:1::/64"])
        #expect(try ClientMessage.decode(ClientMessage.hello(hello).encoded()) == .hello(hello))
        let seventeen = "[" + (0..<17).map { "\"10.\($0).0.0/16\"" }.joined(separator: ",") + "]"
        let cases: [(Int, String, ErrorCode)] = [
            (4, "[\"192.168.1.1/24\"]", .invalidValue), (4, "[\"0.0.0.0/0\"]", .invalidValue), (4, "[\"::/0\"]", .invalidValue),
            (4, "[\"10.0.0.0/7\"]", .invalidValue), (4, seventeen, .invalidValue), (4, "[\"10.0.0.0/8\",\"10.0.0.0/8\"]", .invalidValue),
            (4, "[\"lan\"]", .invalidValue), (4, "[\"FD00:1::/64\"]", .invalidValue), (4, "\"10.0.0.0/8\"", .wrongType),
            (4, "[8]", .wrongType), (3, "[\"10.0.0.0/8\"]", .invalidValue),
        ]
        for (version, routes, code) in cases {
            #expect(throws: ProtocolError.self, "\(routes)") { try ClientMessage.decode(Self.helloText(version: version, routes: routes)) }
            do { _ = try ClientMessage.decode(Self.helloText(version: version, routes: routes)) } catch { #expect(error.code == code, "\(routes)") }
        }
    }

    @Test("PeerInfo.routes round-trips, is absent when empty, and is checked like the hello's")
    func peerInfoField() throws {
        let key = try! PublicKey(bytes: [UInt8](repeating: 7, count: 32))
        var peer = PeerInfo(publicKey: key, name: "r", ipv4: IPv4Address("100.64.0.1")!, ipv6: IPv6Address("fd00::1")!, dnsName: "r",
                            routes: [SubnetRoute("10.1.0.0/16")!])
        let text = HubMessage.peerJoined(peer).encoded()
        #expect(text.contains("\"routes\":[\"10.1.0.0/16\"]"))
        #expect(try HubMessage.decode(text) == .peerJoined(peer))
        peer.routes = []
        #expect(!HubMessage.peerJoined(peer).encoded().contains("routes"))
        let bad = text.replacing("10.1.0.0/16", with: "10.1.0.1/16")
        #expect(throws: ProtocolError.self) { try HubMessage.decode(bad) }
    }
}
