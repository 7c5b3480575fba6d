import RiftProtocol
import Testing

@Suite("Exit nodes on the wire (PROTOCOL.md §6.15)")
struct ExitNodeWireTests {
    private static let key = try! PublicKey(bytes: [UInt8](repeating: 7, count: 32))

    private static func helloText(version: Int, exitNode: String) -> String {
        let proof = "{\"nonce\":\"\(Base64.encode([UInt8](repeating: 1, count: 24)))\",\"box\":\"\(Base64.encode([UInt8](repeating: 2, count: 48)))\"}"
        return "{\"type\":\"hello\",\"version\":\(version),\"public_key\":\"\(key.base64)\",\"name\":\"x\",\"proof\":\(proof),\"advertise_exit_node\":\(exitNode)}"
    }

    private static func code(_ body: () throws -> Void) -> ErrorCode? {
        do { try body(); return nil } catch let error as ProtocolError { return error.code } catch { return nil }
    }

    @Test("the hub offers version 5 and an agent offered 1-5 chooses it")
    func version() {
        #expect(ProtocolVersion.supported == [1, 2, 3, 4, 5])
        #expect(ProtocolVersion.highestCommon(with: [1, 2, 3, 4, 5]) == 5)
        #expect(ProtocolVersion.highestCommon(with: [1, 2, 3, 4]) == 4)
    }

    @Test("hello.advertise_exit_node: true and false decode in v5 and re-encode as sent")
    func helloField() throws {
        for flag in [true, false] {
            guard case .hello(let hello) = try ClientMessage.decode(Self.helloText(version: 5, exitNode: "\(flag)")) else {
                Issue.record("not a hello"); return
            }
            #expect(hello.advertiseExitNode == flag)
            let encoded = ClientMessage.hello(hello).encoded()
            #expect(encoded.contains("\"advertise_exit_node\":\(flag)"))
            #expect(try ClientMessage.decode(encoded) == .hello(hello))
        }
        var plain = Hello(version: 5, publicKey: Self.key, name: "x", proof: SealedBox(nonce: [UInt8](repeating: 1, count: 24), ciphertext: [UInt8](repeating: 2, count: 48)))
        #expect(!ClientMessage.hello(plain).encoded().contains("advertise_exit_node"))
        plain.advertiseExitNode = true
        #expect(ClientMessage.hello(plain).encoded().contains("\"advertise_exit_node\":true"))
    }

    @Test("hello.advertise_exit_node refusals: not a boolean is wrong_type, before version 5 invalid_value")
    func helloRefusals() {
        let cases: [(Int, String, ErrorCode)] = [
            (5, "\"true\"", .wrongType), (5, "1", .wrongType), (5, "null", .wrongType), (5, "[true]", .wrongType),
            (4, "true", .invalidValue), (4, "false", .invalidValue), (1, "true", .invalidValue),
        ]
        for (version, value, expected) in cases {
            let got = Self.code { _ = try ClientMessage.decode(Self.helloText(version: version, exitNode: value)) }
            #expect(got == expected, "v\(version) \(value)")
        }
    }

    @Test("PeerInfo.exit_node: true round-trips; nil and false are absent on the wire; false from a hub is refused")
    func peerInfoField() throws {
        var peer = PeerInfo(publicKey: Self.key, name: "x", ipv4: IPv4Address("100.64.0.1")!, ipv6: IPv6Address("fd00::1")!,
                            dnsName: "x", exitNode: true)
        let text = HubMessage.peerJoined(peer).encoded()
        #expect(text.contains("\"exit_node\":true"))
        #expect(try HubMessage.decode(text) == .peerJoined(peer))
        #expect(peer.isExitNode)
        peer.exitNode = false
        #expect(!HubMessage.peerJoined(peer).encoded().contains("exit_node"))
        #expect(!peer.isExitNode)
        peer.exitNode = nil
        #expect(!HubMessage.peerJoined(peer).encoded().contains("exit_node"))
        let falseText = text.replacing("\"exit_node\":true", with: "\"exit_node\":false")
        #expect(Self.code { _ = try HubMessage.decode(falseText) } == .invalidValue)
        let stringText = text.replacing("\"exit_node\":true", with: "\"exit_node\":\"true\"")
        #expect(Self.code { _ = try HubMessage.decode(stringText) } == .wrongType)
    }
}
