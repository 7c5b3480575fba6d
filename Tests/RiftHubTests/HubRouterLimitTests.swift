import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: limits")
struct HubRouterLimitTests {
    @Test("every message dropped by the rate limit is answered with rate_limited (and its ref); a flood is finally closed")
    func rateLimit() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (flooder, _) = hub.join(network: "home", token: token, key: a)
        let (target, _) = hub.join(network: "home", token: token, key: b)
        let (bystander, _) = hub.join(network: "home", token: token, key: c)
        _ = hub.take(flooder); _ = hub.take(target); _ = hub.take(bystander)
        let signal = ClientMessage.signal(OutgoingSignal(kind: .candidate, to: b.publicKey, sealed: RouterHarness.box()))
        // The hello used one token of the burst.
        for _ in 0..<(Limits.messageBurst - 1) { hub.send(flooder, signal) }
        #expect(hub.take(target).count == Limits.messageBurst - 1)
        #expect(hub.take(flooder).isEmpty)
        for _ in 0..<10 { hub.send(flooder, signal) }
        #expect(errorCodes(hub.take(flooder)) == Array(repeating: "rate_limited", count: 10), "every dropped message is answered")
        #expect(hub.take(target).isEmpty)
        // A dropped message with an id is answered with that id as ref, so its sender knows exactly what was lost.
        for index in 0..<3 {
            hub.send(flooder, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: RouterHarness.box(), id: "o-\(index)")))
        }
        let refs = hub.take(flooder).compactMap { message -> String? in
            guard case .error(let frame) = message, frame.code == "rate_limited" else { return nil }
            return frame.ref
        }
        #expect(refs == ["o-0", "o-1", "o-2"])
        // Others are unaffected.
        hub.send(bystander, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: RouterHarness.box())))
        #expect(hub.take(target).count == 1)
        // The bucket refills at the sustained rate.
        hub.clock.advance(1)
        hub.send(flooder, signal)
        #expect(hub.take(target).count == 1)
        // Sustained abuse closes the connection and announces the departure.
        for _ in 0..<1100 { hub.send(flooder, signal) }
        #expect(hub.closeCodes[flooder] == HubCloseCode.policyViolation)
        #expect(hub.take(bystander) == [.peerLeft(PeerLeft(publicKey: a.publicKey, reason: "disconnected"))])
        #expect(hub.router.metrics.rejected[.rateLimited] ?? 0 >= 1000)
    }

    @Test("a network at its peer limit refuses new keys but readmits known ones")
    func peerLimit() {
        let hub = RouterHarness()
        hub.directory.addNetwork("small", maximumPeers: 2)
        let token = hub.directory.addToken(network: "small")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "small", token: token, key: a)
        _ = hub.join(network: "small", token: token, key: b)
        let (connectionC, refused) = hub.join(network: "small", token: token, key: c)
        #expect(refused == nil)
        #expect(hub.closeCodes[connectionC] == HubCloseCode.tooMany)
        #expect(hub.router.metrics.authFailures["network_full"] == 1)
        hub.close(connectionA)
        let (_, back) = hub.join(network: "small", token: token, key: a)
        #expect(back != nil)
    }

    @Test("the peer limit answers with network_full")
    func networkFullFrame() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("one", maximumPeers: 1)
        let token = hub.directory.addToken(network: "one")
        _ = hub.join(network: "one", token: token, key: .generate())
        let connection = hub.open(network: "one", token: token)
        let challenge = try #require(hub.challenge(connection))
        hub.send(connection, hub.hello(challenge, network: "one", key: .generate(), name: "late"))
        #expect(errorCodes(hub.take(connection)) == ["network_full"])
    }

    @Test("no 254-peer ceiling: a /23 network holds 260 peers with distinct addresses")
    func largeNetwork() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("big", maximumPeers: 1000, ipv4: "10.20.0.0/23")
        let token = hub.directory.addToken(network: "big")
        var addresses = Set<IPv4Address>()
        for index in 0..<260 {
            let (_, welcome) = hub.join(network: "big", token: token, key: .generate(), remote: "10.0.\(index / 200).\(index % 200)")
            if let welcome { addresses.insert(welcome.me.ipv4) }
        }
        #expect(addresses.count == 260)
        #expect(addresses.contains(IPv4Address("10.20.1.4")!))
        // The next joiner's welcome stays under the frame limit; the peers beyond it follow as peer_joined.
        let connection = hub.open(network: "big", token: token, remote: "10.1.0.1")
        let challenge = try #require(hub.challenge(connection))
        let longName = String(repeating: "n", count: Limits.maximumPeerNameLength)
        hub.send(connection, hub.hello(challenge, network: "big", key: .generate(), name: longName))
        let messages = hub.take(connection)
        guard case .welcome(let welcome)? = messages.first else { Issue.record("no welcome"); return }
        #expect(HubMessage.welcome(welcome).encoded().utf8.count < Limits.maximumFrameBytes)
        let announced = messages.dropFirst().compactMap { if case .peerJoined(let peer) = $0 { peer.publicKey } else { nil } }
        #expect(Set(welcome.peers.map(\.publicKey)).union(announced).count == 260)
        #expect(welcome.peers.count == 100 && messages.count == 161)
    }
}
