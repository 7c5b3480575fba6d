import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: authentication")
struct HubRouterAuthenticationTests {
    @Test("a valid token gets a challenge and a valid proof a welcome")
    func validTokenAndProof() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let connection = hub.open(network: "home", token: token)
        let challenge = try #require(hub.challenge(connection))
        #expect(challenge.hubKey == hub.hubKey.publicKey)
        #expect(challenge.nonce.count == 32)
        #expect(challenge.versions == ProtocolVersion.supported)
        let key = PrivateKey.generate()
        hub.send(connection, hub.hello(challenge, network: "home", key: key, name: "laptop"))
        let messages = hub.take(connection)
        guard case .welcome(let welcome)? = messages.first else { Issue.record("expected welcome, got \(messages)"); return }
        #expect(welcome.network == "home")
        #expect(welcome.me.publicKey == key.publicKey)
        #expect(welcome.me.name == "laptop")
        #expect(welcome.ipv4Prefix.contains(welcome.me.ipv4))
        #expect(welcome.me.ipv4.description == "100.64.0.1")
        #expect(welcome.me.ipv6.description == "fd00:1:2::1")
        #expect(welcome.peers.isEmpty)
        #expect(welcome.ice.stun == ["stun:hub.example:3478"])
        #expect(hub.closeCodes[connection] == nil)
        #expect(hub.router.metrics.connectedPeers == 1)
        #expect(hub.directory.lastUsed["tok0"] != nil)
    }

    @Test("every token failure gets the same unauthorized answer; the metric says why, but never that a network is unknown",
          arguments: [
              ("/v1/networks/home", "Bearer rgt_wrongwrongwrongwrongwrongwrongwrongwrongwro", "bad_token"),
              ("/v1/networks/nowhere", nil, "missing_token"),
              ("/v1/networks/home", nil, "missing_token"),
              ("/v1/networks/home", "Basic dXNlcjpwYXNz", "malformed_token"),
              ("/v1/networks/home", "Bearer rgt_short", "malformed_token"),
              ("/v2/somewhere", "VALID", "bad_path"),
              ("/v1/networks/nowhere", "VALID", "bad_token"),
              ("/v1/networks/work", "VALID", "bad_token"),
          ] as [(String, String?, String)])
    func tokenFailures(path: String, authorization: String?, reason: String) {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        hub.directory.addNetwork("work")
        let token = hub.directory.addToken(network: "home")
        let connection = hub.open(path: path, authorization: authorization == "VALID" ? "Bearer \(token)" : authorization)
        let messages = hub.take(connection)
        #expect(messages == [.error(ErrorFrame(code: "unauthorized", message: "the bearer token is not valid for this network"))])
        #expect(hub.closeCodes[connection] == HubCloseCode.unauthorized)
        #expect(hub.router.metrics.authFailures[reason] == 1)
    }

    @Test("claiming another peer's key fails the proof of possession")
    func proofForSomeoneElsesKey() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let victim = PrivateKey.generate(), attacker = PrivateKey.generate()
        let connection = hub.open(network: "home", token: token)
        let challenge = try #require(hub.challenge(connection))
        // The attacker can only prove its own key; it claims the victim's.
        let proof = try PossessionProof.make(challenge: challenge, network: "home", key: attacker)
        hub.send(connection, .hello(Hello(version: 1, publicKey: victim.publicKey, name: "victim", proof: proof)))
        #expect(errorCodes(hub.take(connection)) == ["proof_failed"])
        #expect(hub.closeCodes[connection] == HubCloseCode.forbidden)
        #expect(hub.router.metrics.authFailures["proof_failed"] == 1)
        #expect(hub.router.connectedPeers(in: "home").isEmpty)
    }

    @Test("a proof made for another challenge or another network is refused")
    func replayedProof() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let key = PrivateKey.generate()
        let first = hub.open(network: "home", token: token)
        let oldChallenge = try #require(hub.challenge(first))
        let second = hub.open(network: "home", token: token)
        _ = try #require(hub.challenge(second))
        hub.send(second, hub.hello(oldChallenge, network: "home", key: key, name: "replay"))
        #expect(errorCodes(hub.take(second)) == ["proof_failed"])
        hub.send(first, hub.hello(oldChallenge, network: "work", key: key, name: "other-network"))
        #expect(errorCodes(hub.take(first)) == ["proof_failed"])
    }

    @Test("an unsupported version is refused and closed")
    func unsupportedVersion() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let key = PrivateKey.generate()
        let connection = hub.open(network: "home", token: token)
        let challenge = try #require(hub.challenge(connection))
        let proof = try PossessionProof.make(challenge: challenge, network: "home", key: key)
        hub.send(connection, .hello(Hello(version: 99, publicKey: key.publicKey, name: "future", proof: proof)))
        #expect(errorCodes(hub.take(connection)) == ["unsupported_version"])
        #expect(hub.closeCodes[connection] == HubCloseCode.badSession)
    }

    @Test("a signal before hello is not_authenticated and closes; a second hello is already_authenticated")
    func ordering() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let early = hub.open(network: "home", token: token)
        _ = hub.take(early)
        hub.send(early, .signal(OutgoingSignal(kind: .offer, to: PrivateKey.generate().publicKey, sealed: RouterHarness.box(), id: "m1")))
        let refused = hub.take(early)
        #expect(refused == [.error(ErrorFrame(code: "not_authenticated", message: "send hello before any other message", ref: "m1"))])
        #expect(hub.closeCodes[early] != nil)

        let key = PrivateKey.generate()
        let (connection, welcome) = hub.join(network: "home", token: token, key: key)
        #expect(welcome != nil)
        let challenge = Challenge(versions: [1], hubKey: hub.hubKey.publicKey, nonce: [UInt8](repeating: 1, count: 32))
        hub.send(connection, hub.hello(challenge, network: "home", key: key, name: "again", id: "h2"))
        #expect(errorCodes(hub.take(connection)) == ["already_authenticated"])
        #expect(hub.closeCodes[connection] == nil)
    }

    @Test("a revoked key cannot join")
    func revokedPeer() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let key = PrivateKey.generate()
        let (first, _) = hub.join(network: "home", token: token, key: key)
        hub.close(first)
        hub.directory.revokePeer(key.publicKey, in: "home")
        let (second, welcome) = hub.join(network: "home", token: token, key: key)
        #expect(welcome == nil)
        #expect(hub.closeCodes[second] == HubCloseCode.forbidden)
        #expect(hub.router.metrics.authFailures["peer_revoked"] == 1)
    }

    @Test("an address with too many failures is throttled; others are not; it recovers with time")
    func failureLimiter() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        for _ in 0..<10 { _ = hub.open(network: "home", token: "rgt_bad", remote: "198.51.100.7") }
        let throttled = hub.open(network: "home", token: token, remote: "198.51.100.7")
        #expect(errorCodes(hub.take(throttled)) == ["rate_limited"])
        #expect(hub.closeCodes[throttled] == HubCloseCode.tooMany)
        #expect(hub.router.metrics.authFailures["throttled"] == 1)
        let other = hub.open(network: "home", token: token, remote: "198.51.100.8")
        #expect(hub.challenge(other) != nil)
        // IPv6 clients are limited by /64, IPv4-mapped addresses as IPv4.
        let mapped = hub.open(network: "home", token: token, remote: "::ffff:198.51.100.7")
        #expect(errorCodes(hub.take(mapped)) == ["rate_limited"])
        hub.clock.advance(7)
        let later = hub.open(network: "home", token: token, remote: "198.51.100.7")
        #expect(hub.challenge(later) != nil)
    }

    @Test("a connection that never says hello is closed after the hello timeout")
    func helloTimeout() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let connection = hub.open(network: "home", token: token)
        _ = hub.take(connection)
        hub.clock.advance(9)
        hub.tick()
        #expect(hub.closeCodes[connection] == nil)
        hub.clock.advance(2)
        hub.tick()
        #expect(errorCodes(hub.take(connection)) == ["not_authenticated"])
        #expect(hub.closeCodes[connection] != nil)
    }

    @Test("a storage failure is answered with internal_error and a close, without crashing")
    func storageFailure() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        hub.directory.failing = true
        let connection = hub.open(network: "home", token: token)
        #expect(errorCodes(hub.take(connection)) == ["internal_error"])
        #expect(hub.closeCodes[connection] == HubCloseCode.internalError)
    }
}
