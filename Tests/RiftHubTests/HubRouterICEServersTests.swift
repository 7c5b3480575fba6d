import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// `ice_servers` from a token holder that does not join (PROTOCOL.md §6.12; `riftgate netcheck --token-file`).
@Suite("Routing core: ice_servers without joining")
struct HubRouterICEServersTests {
    static let secret = "coturn-shared-secret"

    static func harness(turnLifetime: Int64 = 12 * 3600, turn: Bool = true) -> RouterHarness {
        RouterHarness { configuration in
            configuration.ice = ICEServerPolicy(stunPort: 3478, publicHost: "hub.example",
                                                turnURLs: turn ? ["turn:relay.example:3478?transport=udp"] : [],
                                                turnSecret: turn ? TURNSecret(secret) : nil, turnLifetime: turnLifetime)
        }
    }

    /// Opens with `token`, asks for the ICE servers instead of hello, and returns the connection and what came back.
    static func ask(_ hub: RouterHarness, token: String, remote: String = "192.0.2.1") -> (Int, [HubMessage]) {
        let connection = hub.open(network: "home", token: token, remote: remote)
        _ = hub.take(connection)
        hub.send(connection, .iceServers(ICEServersRequest(id: "netcheck")))
        return (connection, hub.take(connection))
    }

    @Test("a valid token gets one ice_servers with short-lived credentials, then a normal close; nothing joins")
    func answered() throws {
        let hub = Self.harness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let member = PrivateKey.generate()
        let (memberConnection, welcome) = hub.join(network: "home", token: token, key: member)
        #expect(welcome != nil)
        let peersBefore = hub.directory.peers["home"]?.count
        let lastUsedBefore = hub.directory.lastUsed

        let connection = hub.open(network: "home", token: token)
        #expect(hub.challenge(connection) != nil, "the token is checked when the connection opens, as for hello")
        hub.send(connection, .iceServers(ICEServersRequest(id: "netcheck")))
        let messages = hub.take(connection)
        guard case .iceServers(let servers)? = messages.first, messages.count == 1 else {
            Issue.record("expected one ice_servers, got \(messages)"); return
        }
        let expiry = hub.clock.unix + ICEServerPolicy.tokenOnlyLifetime
        let expected = TURNCredentials.make(secret: Self.secret, name: "netcheck.home", expiresAt: expiry)
        #expect(servers.stun == ["stun:hub.example:3478"])
        #expect(servers.turn == [TURNServer(urls: ["turn:relay.example:3478?transport=udp"], username: "\(expiry):netcheck.home",
                                            credential: expected.credential, expiresAt: expiry)])
        #expect(hub.closeCodes[connection] == HubCloseCode.normal)
        #expect(hub.router.metrics.iceServerRequests == 1)
        // No peer, no address, no session, no last-used stamp; the member hears nothing.
        #expect(hub.directory.peers["home"]?.count == peersBefore)
        #expect(hub.directory.lastUsed == lastUsedBefore)
        #expect(hub.router.metrics.connectedPeers == 1)
        #expect(hub.router.connectedPeers(in: "home").map(\.publicKey) == [member.publicKey])
        #expect(hub.take(memberConnection).isEmpty)
        // The connection is over: a hello on it now gets nothing.
        hub.send(connection, .iceServers(ICEServersRequest()))
        #expect(hub.take(connection).isEmpty)
        hub.close(connection)
        #expect(hub.take(memberConnection).isEmpty, "no peer_left for a connection that never joined")
        #expect(hub.router.metrics.openConnections == 1)
    }

    @Test("the credentials live no longer than welcome's")
    func shortLifetime() {
        let hub = Self.harness(turnLifetime: 120)
        hub.directory.addNetwork("home")
        let (_, messages) = Self.ask(hub, token: hub.directory.addToken(network: "home"))
        guard case .iceServers(let servers)? = messages.first else { Issue.record("got \(messages)"); return }
        #expect(servers.turn.map(\.expiresAt) == [hub.clock.unix + 120])
    }

    @Test("a hub without TURN answers with its STUN server and no TURN server")
    func noTURN() {
        let hub = Self.harness(turn: false)
        hub.directory.addNetwork("home")
        let (connection, messages) = Self.ask(hub, token: hub.directory.addToken(network: "home"))
        #expect(messages == [.iceServers(ICEServers(stun: ["stun:hub.example:3478"], turn: []))])
        #expect(hub.closeCodes[connection] == HubCloseCode.normal)
    }

    @Test("a wrong token is refused before any message, counted by the failure limiter; a valid one still gets in")
    func wrongToken() {
        let hub = Self.harness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let wrong = "rgt_" + String(repeating: "A", count: 43)
        let (refused, messages) = Self.ask(hub, token: wrong, remote: "198.51.100.7")
        #expect(errorCodes(messages) == [], "the error came at open, before the request")
        #expect(hub.closeCodes[refused] == HubCloseCode.unauthorized)
        #expect(hub.router.metrics.authFailures["bad_token"] == 1)
        #expect(hub.router.metrics.iceServerRequests == 0)
        for _ in 0..<9 { _ = hub.open(network: "home", token: wrong, remote: "198.51.100.7") }
        let throttled = hub.open(network: "home", token: wrong, remote: "198.51.100.7")
        #expect(errorCodes(hub.take(throttled)) == ["rate_limited"], "the ice_servers failure counted like any other")
        let (allowed, answer) = Self.ask(hub, token: token, remote: "198.51.100.7")
        #expect(answer.count == 1 && errorCodes(answer).isEmpty, "a valid token always gets in: \(answer)")
        #expect(hub.closeCodes[allowed] == HubCloseCode.normal)
    }

    @Test("revoked and expired tokens get unauthorized, as for hello", arguments: ["revoked", "expired"])
    func withdrawnToken(_ how: String) {
        let hub = Self.harness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home", id: "t", expiresAt: how == "expired" ? hub.clock.unix - 1 : nil)
        if how == "revoked" { hub.directory.revokeToken("t") }
        let connection = hub.open(network: "home", token: token)
        #expect(errorCodes(hub.take(connection)) == ["unauthorized"])
        #expect(hub.closeCodes[connection] == HubCloseCode.unauthorized)
    }

    @Test("a single-use token is answered without using its key slot, and still when exhausted")
    func singleUseToken() throws {
        let hub = Self.harness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home", id: "phone")
        hub.directory.tokenLimits["phone"] = TokenLimits(maximumKeys: 1, ephemeral: false)
        let (_, first) = Self.ask(hub, token: token)
        #expect(first.count == 1 && errorCodes(first).isEmpty)
        #expect(hub.directory.tokenKeys["phone"] == nil, "no key slot taken")
        let phone = PrivateKey.generate()
        #expect(hub.join(network: "home", token: token, key: phone).1 != nil, "the slot is still free for the device")
        let (_, exhausted) = Self.ask(hub, token: token)
        guard case .iceServers? = exhausted.first else { Issue.record("exhausted token refused: \(exhausted)"); return }
        #expect(hub.directory.tokenKeys["phone"] == [phone.publicKey])
        #expect(hub.join(network: "home", token: token, key: PrivateKey.generate()).1 == nil, "still exhausted for other keys")
    }

    @Test("after welcome, ice_servers is already_authenticated and the session stays")
    func afterWelcome() throws {
        let hub = Self.harness()
        hub.directory.addNetwork("home")
        let (connection, welcome) = hub.join(network: "home", token: hub.directory.addToken(network: "home"), key: PrivateKey.generate())
        #expect(welcome != nil)
        hub.send(connection, .iceServers(ICEServersRequest(id: "late")))
        let messages = hub.take(connection)
        #expect(errorCodes(messages) == ["already_authenticated"])
        guard case .error(let frame)? = messages.first else { return }
        #expect(frame.ref == "late")
        #expect(hub.closeCodes[connection] == nil)
        #expect(hub.router.metrics.connectedPeers == 1)
    }
}
