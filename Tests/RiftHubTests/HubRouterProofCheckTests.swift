import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// The proof of a hello is checked outside the router (the hub does it on a thread of its own): the router asks for the
/// check, holds what the connection sends meanwhile, and acts on the verdict.
@Suite("Routing core: proofs checked aside")
struct HubRouterProofCheckTests {
    /// A hub with peer `b` joined to `home`, proof checks held; returns the token too.
    private func hubWithPeer() -> (RouterHarness, token: String, b: (Int, PrivateKey)) {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let b = PrivateKey.generate()
        let (connectionB, _) = hub.join(network: "home", token: token, key: b, name: "b")
        _ = hub.take(connectionB)
        hub.holdsProofChecks = true
        return (hub, token, (connectionB, b))
    }

    /// Opens a connection to `home` and says hello as `key` (with a proof made by `prover`, `key` by default).
    private func sayHello(_ hub: RouterHarness, token: String, key: PrivateKey, prover: PrivateKey? = nil) throws -> Int {
        let connection = hub.open(network: "home", token: token)
        let challenge = try #require(hub.challenge(connection))
        let proof = try PossessionProof.make(challenge: challenge, network: "home", key: prover ?? key)
        hub.send(connection, .hello(Hello(version: ProtocolVersion.v1, publicKey: key.publicKey, name: "a", proof: proof)))
        return connection
    }

    @Test("the welcome waits for the verdict, and nobody hears of the peer before it")
    func welcomeWaitsForVerdict() throws {
        let (hub, token, b) = hubWithPeer()
        let a = PrivateKey.generate()
        let connection = try sayHello(hub, token: token, key: a)
        #expect(hub.take(connection).isEmpty)
        #expect(hub.pendingProofChecks.map(\.agentKey) == [a.publicKey])
        #expect(hub.pendingProofChecks.first?.network == "home")
        #expect(hub.take(b.0).isEmpty)
        #expect(hub.router.metrics.connectedPeers == 1)
        hub.checkPendingProofs()
        guard case .welcome(let welcome)? = hub.take(connection).first else { Issue.record("no welcome"); return }
        #expect(welcome.me.publicKey == a.publicKey)
        #expect(welcome.peers.map(\.publicKey) == [b.1.publicKey])
        #expect(hub.take(b.0).map { message -> PublicKey? in
            if case .peerJoined(let peer) = message { peer.publicKey } else { nil }
        } == [a.publicKey])
    }

    @Test("frames sent right after hello are handled after the welcome, in the order they came")
    func heldFramesFollowTheWelcome() throws {
        let (hub, token, b) = hubWithPeer()
        let a = PrivateKey.generate()
        let connection = try sayHello(hub, token: token, key: a)
        let box = RouterHarness.box(3)
        hub.send(connection, .signal(OutgoingSignal(kind: .offer, to: b.1.publicKey, sealed: box, id: "o1")))
        hub.send(connection, text: #"{"type":"hello","id":"again"}"#)
        hub.send(connection, .signal(OutgoingSignal(kind: .candidate, to: b.1.publicKey, sealed: box, id: "c1")))
        #expect(hub.take(connection).isEmpty)
        #expect(hub.take(b.0).isEmpty)
        hub.checkPendingProofs()
        let messages = hub.take(connection)
        guard case .welcome? = messages.first else { Issue.record("expected the welcome first, got \(messages)"); return }
        // The second hello did not decode as one (no proof): refused as any malformed frame after welcome is.
        #expect(messages.dropFirst().map { message -> String? in
            if case .error(let frame) = message { frame.ref } else { nil }
        } == ["again"])
        #expect(hub.closeCodes[connection] == nil)
        let relayed = hub.take(b.0)
        #expect(relayed.count == 3, "peer_joined, then the offer and the candidate: \(relayed)")
        #expect(Array(relayed.dropFirst()) == [.signal(RelayedSignal(kind: .offer, from: a.publicKey, sealed: box)),
                                               .signal(RelayedSignal(kind: .candidate, from: a.publicKey, sealed: box))])
    }

    @Test("a second valid hello sent before the welcome is refused after it")
    func secondHelloBeforeWelcome() throws {
        let (hub, token, _) = hubWithPeer()
        let a = PrivateKey.generate()
        let connection = hub.open(network: "home", token: token)
        let challenge = try #require(hub.challenge(connection))
        let hello = hub.hello(challenge, network: "home", key: a, name: "a")
        hub.send(connection, hello)
        hub.send(connection, hello)
        hub.checkPendingProofs()
        let messages = hub.take(connection)
        guard case .welcome? = messages.first else { Issue.record("expected the welcome first, got \(messages)"); return }
        #expect(errorCodes(messages) == ["already_authenticated"])
        #expect(hub.closeCodes[connection] == nil, "already_authenticated does not close")
    }

    @Test("a failed proof is refused and what came after it is dropped")
    func failedProofDropsHeldFrames() throws {
        let (hub, token, b) = hubWithPeer()
        let victim = PrivateKey.generate()
        let connection = try sayHello(hub, token: token, key: victim, prover: PrivateKey.generate())
        hub.send(connection, .signal(OutgoingSignal(kind: .offer, to: b.1.publicKey, sealed: RouterHarness.box(), id: "o1")))
        hub.checkPendingProofs()
        #expect(errorCodes(hub.take(connection)) == ["proof_failed"])
        #expect(hub.closeCodes[connection] == HubCloseCode.forbidden)
        #expect(hub.router.metrics.authFailures["proof_failed"] == 1)
        #expect(hub.take(b.0).isEmpty)
        #expect(hub.router.connectedPeers(in: "home").map(\.publicKey) == [b.1.publicKey])
    }

    @Test("a verdict for a connection that closed meanwhile, or for another challenge, changes nothing")
    func staleVerdictsIgnored() throws {
        let (hub, token, b) = hubWithPeer()
        let gone = try sayHello(hub, token: token, key: PrivateKey.generate())
        hub.close(gone)
        let a = PrivateKey.generate()
        let connection = try sayHello(hub, token: token, key: a)
        let other = [UInt8](repeating: 9, count: Challenge.nonceBytes)
        #expect(hub.router.proofChecked(ProofVerdict(connection: connection, challengeNonce: other, isValid: true)).isEmpty)
        #expect(hub.router.proofChecked(ProofVerdict(connection: 999, challengeNonce: other, isValid: true)).isEmpty)
        hub.checkPendingProofs()
        #expect(hub.take(gone).isEmpty)
        guard case .welcome? = hub.take(connection).first else { Issue.record("no welcome"); return }
        #expect(hub.router.connectedPeers(in: "home").count == 2)
        #expect(hub.take(b.0).count == 1, "only a's peer_joined")
    }

    @Test("the hello deadline still applies while the proof is checked")
    func deadlineWhileChecking() throws {
        let (hub, token, b) = hubWithPeer()
        let connection = try sayHello(hub, token: token, key: PrivateKey.generate())
        hub.clock.advance(11)
        hub.tick()
        #expect(errorCodes(hub.take(connection)) == ["not_authenticated"])
        #expect(hub.closeCodes[connection] == HubCloseCode.badSession)
        hub.checkPendingProofs()
        #expect(hub.take(connection).isEmpty)
        #expect(hub.take(b.0).isEmpty)
        #expect(hub.router.metrics.connectedPeers == 1)
    }

    @Test("a connection that sends more than the bound before its welcome is closed")
    func tooManyFramesBeforeWelcome() throws {
        let (hub, token, b) = hubWithPeer()
        let connection = try sayHello(hub, token: token, key: PrivateKey.generate())
        let offer = ClientMessage.signal(OutgoingSignal(kind: .offer, to: b.1.publicKey, sealed: RouterHarness.box()))
        for _ in 0..<64 { hub.send(connection, offer) }
        #expect(hub.take(connection).isEmpty)
        hub.send(connection, offer)
        #expect(errorCodes(hub.take(connection)) == ["not_authenticated"])
        #expect(hub.closeCodes[connection] == HubCloseCode.badSession)
        hub.checkPendingProofs()
        #expect(hub.take(connection).isEmpty)
        #expect(hub.take(b.0).isEmpty)
    }

    @Test("a shutdown while a proof is checked closes the connection; the verdict is ignored")
    func shutdownWhileChecking() throws {
        let (hub, token, _) = hubWithPeer()
        let connection = try sayHello(hub, token: token, key: PrivateKey.generate())
        hub.perform(hub.router.shutdown())
        #expect(hub.closeCodes[connection] == HubCloseCode.goingAway)
        _ = hub.take(connection)
        hub.checkPendingProofs()
        #expect(hub.take(connection).isEmpty)
    }
}
