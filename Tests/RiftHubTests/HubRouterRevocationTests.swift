import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: revocation and periodic work")
struct HubRouterRevocationTests {
    @Test("revoking a token closes its sessions (also one awaiting hello) and others see peer_left revoked")
    func tokenRevocation() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let laptopToken = hub.directory.addToken(network: "home", id: "laptop")
        let serverToken = hub.directory.addToken(network: "home", id: "server")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: laptopToken, key: a)
        let (connectionB, _) = hub.join(network: "home", token: serverToken, key: b)
        let pending = hub.open(network: "home", token: laptopToken)
        _ = hub.take(connectionA); _ = hub.take(connectionB); _ = hub.take(pending)
        hub.tick()
        #expect(hub.take(connectionA).isEmpty, "nothing changed yet")
        hub.directory.revokeToken("laptop")
        hub.tick()
        #expect(errorCodes(hub.take(connectionA)) == ["unauthorized"])
        #expect(hub.closeCodes[connectionA] == HubCloseCode.unauthorized)
        #expect(errorCodes(hub.take(pending)) == ["unauthorized"])
        #expect(hub.take(connectionB) == [.peerLeft(PeerLeft(publicKey: a.publicKey, reason: "revoked"))])
        #expect(hub.closeCodes[connectionB] == nil)
        hub.close(connectionA)
        #expect(hub.take(connectionB).isEmpty, "the departure is announced once")
        let again = hub.open(network: "home", token: laptopToken)
        #expect(errorCodes(hub.take(again)) == ["unauthorized"])
    }

    @Test("a peer revoked after it left is announced as revoked to the network's live sessions, for six minutes")
    func departedPeerRevocation() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        hub.directory.addNetwork("work")
        let token = hub.directory.addToken(network: "home", id: "home")
        let workToken = hub.directory.addToken(network: "work", id: "work")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a)
        let (connectionB, _) = hub.join(network: "home", token: token, key: b)
        let (other, _) = hub.join(network: "work", token: workToken, key: .generate())
        _ = hub.take(connectionA); _ = hub.take(other)
        hub.close(connectionB, cause: .heartbeatTimeout)
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "timeout"))])
        let (late, _) = hub.join(network: "home", token: token, key: c)  // joined after b left: told too, ignores it
        _ = hub.take(connectionA); _ = hub.take(late)

        hub.directory.revokePeer(b.publicKey, in: "home")
        hub.tick()
        let revoked = PeerLeft(publicKey: b.publicKey, reason: "revoked")
        #expect(hub.take(connectionA) == [.peerLeft(revoked)])
        #expect(hub.take(late) == [.peerLeft(revoked)])
        #expect(hub.take(other).isEmpty, "another network hears nothing")
        #expect(hub.closeCodes[connectionA] == nil)
        hub.clock.advance(120)
        hub.tick()
        #expect(hub.take(connectionA).isEmpty, "announced once")

        // A token revoked long after its peer left: nothing (agents keep a working tunnel for five minutes at most).
        let d = PrivateKey.generate()
        let dToken = hub.directory.addToken(network: "home", id: "d")
        let (connectionD, _) = hub.join(network: "home", token: dToken, key: d)
        hub.close(connectionD)
        _ = hub.take(connectionA)
        hub.clock.advance(400)
        hub.directory.revokeToken("d")
        hub.tick()
        #expect(hub.take(connectionA).isEmpty)

        // A peer that came back is live again: its revocation closes its session as usual, announced once.
        let e = PrivateKey.generate()
        let eToken = hub.directory.addToken(network: "home", id: "e")
        let (first, _) = hub.join(network: "home", token: eToken, key: e)
        hub.close(first)
        let (second, _) = hub.join(network: "home", token: eToken, key: e)
        _ = hub.take(connectionA)
        hub.directory.revokeToken("e")
        hub.tick()
        #expect(errorCodes(hub.take(second)) == ["unauthorized"])
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: e.publicKey, reason: "revoked"))])
    }

    @Test("a session that joins within six minutes of a revocation is told of it after its welcome, unless the peer is back")
    func revocationToldToLaterJoins() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        hub.directory.addNetwork("work")
        let token = hub.directory.addToken(network: "home", id: "home")
        let bToken = hub.directory.addToken(network: "home", id: "b")
        let workToken = hub.directory.addToken(network: "work", id: "work")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (first, _) = hub.join(network: "home", token: token, key: a)
        let (connectionB, _) = hub.join(network: "home", token: bToken, key: b)
        hub.close(first)  // a is off the hub (its agent keeps its tunnel to b) ...
        _ = hub.take(connectionB)
        hub.directory.revokeToken("b")  // ... when b's access is withdrawn
        hub.tick()
        #expect(errorCodes(hub.take(connectionB)) == ["unauthorized"])
        hub.close(connectionB)

        let revoked = PeerLeft(publicKey: b.publicKey, reason: "revoked")
        hub.clock.advance(200)
        let (second, messages) = hub.joinMessages(network: "home", token: token, key: a)
        #expect(messages.count == 2 && messages.last == .peerLeft(revoked), "told right after its welcome: \(messages)")
        #expect(hub.joinMessages(network: "work", token: workToken, key: .generate()).messages.count == 1,
                "another network hears nothing")

        // Admitted again with another token: its old revocation is not told any more.
        let again = hub.directory.addToken(network: "home", id: "b2")
        let (connectionB2, _) = hub.join(network: "home", token: again, key: b)
        hub.close(second)
        let (third, afterReadmission) = hub.joinMessages(network: "home", token: token, key: a)
        #expect(!afterReadmission.contains(.peerLeft(revoked)))
        hub.close(connectionB2)
        hub.close(third)

        // Past six minutes, nothing.
        let c = PrivateKey.generate()
        let (connectionC, _) = hub.join(network: "home", token: token, key: c)
        hub.directory.revokePeer(c.publicKey, in: "home")
        hub.tick()
        hub.close(connectionC)
        hub.clock.advance(361)  // HubRouter.departureMemorySeconds
        hub.tick()
        #expect(hub.joinMessages(network: "home", token: token, key: a).messages.count == 1)
    }

    @Test("after a restart, a peer revoked while the hub was down is announced to its peers that come back, and to later joins")
    func revocationWhileTheHubWasDown() throws {
        let before = RouterHarness()
        before.directory.addNetwork("home")
        let token = before.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate(), old = PrivateKey.generate()
        for key in [a, b, old] { _ = before.join(network: "home", token: token, key: key) }
        // `old` left an hour before the others: no agent keeps a tunnel to it that long.
        before.directory.peers["home"]?[old.publicKey]?.lastSeen -= 3_600
        // The hub stops; the administrator revokes b and old meanwhile; the hub starts again on the same state.
        before.directory.revokePeer(b.publicKey, in: "home")
        before.directory.revokePeer(old.publicKey, in: "home")
        let hub = RouterHarness(directory: before.directory)
        let (connectionA, welcome) = hub.join(network: "home", token: token, key: a)
        #expect(welcome?.peers.isEmpty == true)
        hub.tick()
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))])
        let (connectionC, messages) = hub.joinMessages(network: "home", token: token, key: c)
        #expect(messages.dropFirst() == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))], "after c's welcome")
        #expect(hub.take(connectionA).map { if case .peerJoined = $0 { true } else { false } } == [true])
        hub.tick()
        #expect(hub.take(connectionA).isEmpty && hub.take(connectionC).isEmpty, "announced once")
    }

    @Test("a token revoked while the hub was down: the departed peers it last admitted are announced revoked at start")
    func tokenRevocationWhileTheHubWasDown() throws {
        let before = RouterHarness()
        before.directory.addNetwork("home")
        let shared = before.directory.addToken(network: "home", id: "shared")
        let laptop = before.directory.addToken(network: "home", id: "laptop")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        _ = before.join(network: "home", token: shared, key: a)
        _ = before.join(network: "home", token: laptop, key: b)
        // c first joined with the laptop's token, then with the shared one: the token it was last admitted with counts.
        _ = before.join(network: "home", token: laptop, key: c)
        _ = before.join(network: "home", token: shared, key: c)
        // The hub stops; the administrator revokes the laptop's token meanwhile; the hub starts again on the same state.
        before.directory.revokeToken("laptop")
        let hub = RouterHarness(directory: before.directory)
        let (connectionA, _) = hub.join(network: "home", token: shared, key: a)
        hub.tick()
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))])
        hub.tick()
        #expect(hub.take(connectionA).isEmpty, "announced once; c, admitted last with a live token, is not")
    }

    @Test("revoking a peer closes its session with peer_revoked")
    func peerRevocation() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a)
        let (connectionB, _) = hub.join(network: "home", token: token, key: b)
        _ = hub.take(connectionA)
        hub.directory.revokePeer(b.publicKey, in: "home")
        hub.tick()
        #expect(errorCodes(hub.take(connectionB)) == ["peer_revoked"])
        #expect(hub.closeCodes[connectionB] == HubCloseCode.forbidden)
        #expect(hub.take(connectionA) == [.peerLeft(PeerLeft(publicKey: b.publicKey, reason: "revoked"))])
        #expect(hub.router.metrics.sessionsEnded["revoked"] == 1)
    }

    @Test("deleting a network closes its sessions with unknown_network")
    func networkDeletion() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        hub.directory.addNetwork("work")
        let homeToken = hub.directory.addToken(network: "home")
        let workToken = hub.directory.addToken(network: "work")
        let (home, _) = hub.join(network: "home", token: homeToken, key: .generate())
        let (work, _) = hub.join(network: "work", token: workToken, key: .generate())
        hub.directory.deleteNetwork("home")
        hub.tick()
        #expect(errorCodes(hub.take(home)) == ["unknown_network"])
        #expect(hub.closeCodes[home] == HubCloseCode.networkGone)
        #expect(hub.closeCodes[work] == nil)
        #expect(hub.router.metrics.networks == 1)
    }

    @Test("an expiring token ends its sessions at the next periodic recheck")
    func tokenExpiry() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home", expiresAt: hub.clock.unix + 30)
        let (connection, _) = hub.join(network: "home", token: token, key: .generate())
        hub.tick()  // takes note of the network created above
        hub.clock.advance(31)
        hub.tick()
        #expect(hub.closeCodes[connection] == nil, "expiry needs no write, so it waits for the periodic recheck")
        hub.clock.advance(30)
        hub.tick()
        #expect(errorCodes(hub.take(connection)) == ["unauthorized"])
    }

    @Test("TURN credentials are in the welcome and refreshed before they expire")
    func turnCredentials() throws {
        let hub = RouterHarness(configure: {
            $0.ice = ICEServerPolicy(stunPort: 3478, publicHost: nil, turnURLs: ["turn:relay.example:3478"],
                                     turnSecret: TURNSecret("s3cret\n"), turnLifetime: 600)
        })
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let key = PrivateKey.generate()
        let (connection, welcome) = hub.join(network: "home", token: token, key: key)
        let turn = try #require(welcome?.ice.turn.first)
        let expiresAt = hub.clock.unix + 600
        #expect(turn.urls == ["turn:relay.example:3478"])
        #expect(turn.expiresAt == expiresAt)
        #expect(turn.username == "\(expiresAt):\(key.publicKey.base64)")
        #expect(turn.credential == TURNCredentials.make(secret: "s3cret", name: key.publicKey.base64, expiresAt: expiresAt).credential)
        #expect(welcome?.ice.stun == ["stun:hub.example:3478"], "taken from the Host header")
        hub.clock.advance(300)
        hub.tick()
        #expect(hub.take(connection).isEmpty)
        hub.clock.advance(101)  // 199 s left: under a third of the lifetime
        hub.tick()
        let messages = hub.take(connection)
        guard case .iceServers(let fresh)? = messages.first else { Issue.record("expected ice_servers, got \(messages)"); return }
        #expect(fresh.turn.first?.expiresAt == hub.clock.unix + 600)
        hub.tick()
        #expect(hub.take(connection).isEmpty, "refreshed once")
        // The next refresh is scheduled from the new credentials: once more when they are a third from expiry.
        hub.clock.advance(399)  // 201 s left
        hub.tick()
        #expect(hub.take(connection).isEmpty)
        hub.clock.advance(2)
        hub.tick()
        guard case .iceServers(let again)? = hub.take(connection).first else { Issue.record("expected a second refresh"); return }
        #expect(again.turn.first?.expiresAt == hub.clock.unix + 600)
        hub.clock.advance(1)
        hub.tick()
        #expect(hub.take(connection).isEmpty, "refreshed once per lifetime")
    }

    @Test("last-seen times are written periodically for connected peers")
    func lastSeen() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let key = PrivateKey.generate()
        _ = hub.join(network: "home", token: token, key: key)
        let joinedAt = hub.clock.unix
        hub.clock.advance(61)
        hub.tick()
        #expect(hub.directory.peers["home"]?[key.publicKey]?.lastSeen == joinedAt + 61)
    }

    @Test("a last-seen round is written in chunks, one per tick, so that a big hub never stalls on it")
    func lastSeenInChunks() throws {
        let hub = RouterHarness()
        let count = HubRouter<Int>.lastSeenChunk + 500
        // One network each: no presence fan-out between them, so the test stays quick.
        let keys = (0..<count).map { index in
            let network = "n\(index)"
            hub.directory.addNetwork(network)
            let key = PrivateKey.generate()
            #expect(hub.join(network: network, token: hub.directory.addToken(network: network), key: key).1 != nil)
            return (network, key)
        }
        let joinedAt = hub.clock.unix
        hub.clock.advance(61)
        let seen = { keys.filter { hub.directory.peers[$0.0]?[$0.1.publicKey]?.lastSeen == joinedAt + 61 }.count }
        hub.tick()
        #expect(seen() == HubRouter<Int>.lastSeenChunk, "the first tick of the round writes one chunk")
        hub.tick()
        #expect(seen() == count, "the next tick writes the rest")
    }
}
