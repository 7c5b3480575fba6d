import RiftCrypto
import Testing
@testable import RiftHub
import RiftTURN

@Suite("TURN check: message codec, server addresses, metrics")
struct TURNMessageTests {
    /// RFC 5769 §2.4: a request with long-term authentication (username "マトリックス", realm "example.org",
    /// password "TheMatrIX" after SASLprep), ending in its MESSAGE-INTEGRITY.
    private static let rfc5769Request: [UInt8] = [
        0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xA4, 0x42, 0x78, 0xAD, 0x34, 0x33, 0xC6, 0xAD, 0x72, 0xC0, 0x29, 0xDA, 0x41, 0x2E,
        0x00, 0x06, 0x00, 0x12, 0xE3, 0x83, 0x9E, 0xE3, 0x83, 0x88, 0xE3, 0x83, 0xAA, 0xE3, 0x83, 0x83, 0xE3, 0x82, 0xAF, 0xE3,
        0x82, 0xB9, 0x00, 0x00,
        0x00, 0x15, 0x00, 0x1C, 0x66, 0x2F, 0x2F, 0x34, 0x39, 0x39, 0x6B, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4F, 0x4C, 0x33, 0x34,
        0x6F, 0x4C, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41,
        0x00, 0x14, 0x00, 0x0B, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x2E, 0x6F, 0x72, 0x67, 0x00,
        0x00, 0x08, 0x00, 0x14, 0xF6, 0x70, 0x24, 0x65, 0x6D, 0xD6, 0x4A, 0x3E, 0x02, 0xB8, 0xE0, 0x71, 0x2E, 0x85, 0xC9, 0xA2,
        0x8C, 0xA8, 0x96, 0x66,
    ]

    @Test("RFC 5769 §2.4: encoding the request with the long-term key reproduces the vector, MESSAGE-INTEGRITY included")
    func rfc5769LongTermVector() throws {
        let key = try STUNMessageIntegrity.longTermKey(username: "マトリックス", realm: "example.org", password: "TheMatrIX")
        let request = TURNMessage(type: 0x0001, transactionID: Array(Self.rfc5769Request[8..<20]), attributes: [
            .init(type: TURNMessage.username, value: Array("マトリックス".utf8)),
            .init(type: TURNMessage.nonce, value: Array("f//499k954d6OL34oL9FSTvy64sA".utf8)),
            .init(type: TURNMessage.realm, value: Array("example.org".utf8)),
        ])
        #expect(try request.encoded(integrityKey: key) == Self.rfc5769Request)
        // A wrong password gives a different integrity, the rest unchanged.
        let wrongKey = try STUNMessageIntegrity.longTermKey(username: "マトリックス", realm: "example.org", password: "TheMatrix")
        let wrong = try request.encoded(integrityKey: wrongKey)
        #expect(wrong.count == Self.rfc5769Request.count && wrong.prefix(96) == Self.rfc5769Request.prefix(96) && wrong != Self.rfc5769Request)
    }

    @Test("decoding the vector yields its attributes; the unauthenticated encoding has no MESSAGE-INTEGRITY")
    func decode() throws {
        let message = try #require(TURNMessage.decode(Self.rfc5769Request))
        #expect(message.type == 0x0001 && message.transactionID == Array(Self.rfc5769Request[8..<20]))
        #expect(message.attributes.map(\.type) == [TURNMessage.username, TURNMessage.nonce, TURNMessage.realm, TURNMessage.messageIntegrity])
        #expect(message.value(of: TURNMessage.realm) == Array("example.org".utf8))
        let plain = try TURNMessage(type: TURNMessage.allocate, transactionID: message.transactionID,
                                    attributes: [.init(type: TURNMessage.requestedTransport, value: [17, 0, 0, 0])]).encoded()
        #expect(plain == [0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42] + message.transactionID + [0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0])
    }

    @Test("an Allocate error response: 401 with REALM and NONCE; 438; success")
    func errorResponses() throws {
        let id = [UInt8](repeating: 7, count: 12)
        let challenge = try TURNMessage(type: 0x0113, transactionID: id, attributes: [
            .init(type: TURNMessage.errorCode, value: [0, 0, 4, 1] + Array("Unauthorized".utf8)),
            .init(type: TURNMessage.realm, value: Array("riftgate".utf8)),
            .init(type: TURNMessage.nonce, value: Array("abc".utf8)),
        ]).encoded()
        let decoded = try #require(TURNMessage.decode(challenge))
        #expect(decoded.errorNumber == 401 && decoded.value(of: TURNMessage.nonce) == Array("abc".utf8))
        #expect(!decoded.isSuccess(of: TURNMessage.allocate))
        let stale = try #require(TURNMessage.decode(try TURNMessage(type: 0x0113, transactionID: id, attributes: [
            .init(type: TURNMessage.errorCode, value: [0, 0, 4, 38])]).encoded()))
        #expect(stale.errorNumber == 438)
        let success = try #require(TURNMessage.decode(try TURNMessage(type: 0x0103, transactionID: id, attributes: []).encoded()))
        #expect(success.isSuccess(of: TURNMessage.allocate) && success.errorNumber == nil)
    }

    @Test("malformed datagrams are not messages")
    func malformed() {
        #expect(TURNMessage.decode(Array(Self.rfc5769Request.dropLast())) == nil)
        #expect(TURNMessage.decode(Array(Self.rfc5769Request.prefix(19))) == nil)
        var noCookie = Self.rfc5769Request
        noCookie[4] = 0
        #expect(TURNMessage.decode(noCookie) == nil)
        var truncatedAttribute = Self.rfc5769Request
        truncatedAttribute[22] = 0x01  // USERNAME claims 0x0112 bytes
        #expect(TURNMessage.decode(truncatedAttribute) == nil)
    }

    @Test("turn: URIs give host:port; turns: and TCP are not probed")
    func serverAddresses() {
        #expect(TURNServerAddress(url: "turn:relay.example:3478")?.description == "relay.example:3478")
        #expect(TURNServerAddress(url: "turn:relay.example")?.description == "relay.example:3478")
        #expect(TURNServerAddress(url: "turn:10.0.0.1:5349?transport=udp")?.description == "10.0.0.1:5349")
        #expect(TURNServerAddress(url: "turn:[2001:db8::1]:3479")?.host == "2001:db8::1")
        #expect(TURNServerAddress(url: "turn:[2001:db8::1]:3479")?.description == "[2001:db8::1]:3479")
        #expect(TURNServerAddress(url: "turn:relay.example:3478?transport=tcp") == nil)
        #expect(TURNServerAddress(url: "turns:relay.example:5349") == nil)
        #expect(TURNServerAddress(url: "turn:relay.example:0") == nil)
        #expect(TURNServerAddress(url: "turn::3478") == nil)
        // netcheck also probes TCP, and knows TLS when it sees it.
        let tcp = TURNServerAddress(url: "turn:relay.example:3478?transport=tcp", transports: [.udp, .tcp])
        #expect(tcp?.transport == .tcp && tcp?.description == "relay.example:3478/tcp")
        #expect(TURNServerAddress(url: "turns:relay.example", transports: [.tls])?.description == "relay.example:5349/tls")
        #expect(TURNServerAddress(url: "turns:relay.example:443?transport=tcp", transports: [.tls])?.port == 443)
        #expect(TURNServerAddress(url: "turns:relay.example?transport=udp", transports: [.tls]) == nil)
        #expect(TURNServerAddress(url: "turn:relay.example?transport=sctp", transports: [.udp, .tcp]) == nil)
    }

    @Test("metrics: counters from the start, the ok gauge once checked, nothing without servers")
    func metrics() throws {
        let server = try #require(TURNServerAddress(url: "turn:127.0.0.1:3478"))
        var metrics = TURNCheckMetrics(servers: [server])
        #expect(!metrics.prometheusText().contains("riftgate_hub_turn_check_ok{"))
        #expect(metrics.prometheusText().contains("riftgate_hub_turn_checks_total{server=\"127.0.0.1:3478\",result=\"rejected\"} 0\n"))
        metrics.record(.rejected, for: server)
        #expect(metrics.prometheusText().contains("riftgate_hub_turn_check_ok{server=\"127.0.0.1:3478\"} 0\n"))
        #expect(metrics.prometheusText().contains("riftgate_hub_turn_checks_total{server=\"127.0.0.1:3478\",result=\"rejected\"} 1\n"))
        metrics.record(.ok, for: server)
        #expect(metrics.prometheusText().contains("riftgate_hub_turn_check_ok{server=\"127.0.0.1:3478\"} 1\n"))
        #expect(TURNCheckMetrics(servers: []).prometheusText() == "")
    }

    @Test("a closed UDP port is unreachable, promptly (ICMP port unreachable), well within the step timeout")
    func closedPortIsUnreachable() throws {
        // Port 9 (discard) is not served on loopback in the test environment; the probe must not hang either way.
        let server = try #require(TURNServerAddress(url: "turn:127.0.0.1:9"))
        #expect(TURNAllocationProbe(server: server, username: "1:x", password: "p", stepTimeout: 2).run() == .unreachable)
    }
}
