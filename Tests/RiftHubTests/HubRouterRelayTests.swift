import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: relay and malformed input")
struct HubRouterRelayTests {
    /// Two peers `a` and `b` joined to `home`.
    private func pair() -> (RouterHarness, a: (Int, PrivateKey), b: (Int, PrivateKey)) {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a, name: "a")
        let (connectionB, _) = hub.join(network: "home", token: token, key: b, name: "b")
        _ = hub.take(connectionA)
        return (hub, (connectionA, a), (connectionB, b))
    }

    @Test("every signal kind is forwarded unchanged with the sender stamped by the hub", arguments: SignalKind.allCases)
    func relayStampsSender(kind: SignalKind) {
        let (hub, a, b) = pair()
        let box = RouterHarness.box(UInt8(kind.rawValue.count))
        hub.send(a.0, .signal(OutgoingSignal(kind: kind, to: b.1.publicKey, sealed: box, id: "m1")))
        #expect(hub.take(b.0) == [.signal(RelayedSignal(kind: kind, from: a.1.publicKey, sealed: box))])
        #expect(hub.take(a.0).isEmpty, "no echo to the sender")
        #expect(hub.router.metrics.relayed[kind] == 1)
    }

    @Test("a client-supplied from is rejected, the connection stays open, nothing is forwarded")
    func clientFromRejected() {
        let (hub, a, b) = pair()
        let text = #"{"type":"offer","from":"\#(b.1.publicKey.base64)","to":"\#(b.1.publicKey.base64)","sealed":{"nonce":"\#(Base64.encode([UInt8](repeating: 1, count: 24)))","box":"\#(Base64.encode([UInt8](repeating: 2, count: 32)))"},"id":"spoof"}"#
        hub.send(a.0, text: text)
        #expect(hub.take(a.0) == [.error(ErrorFrame(code: "sender_not_allowed", message: "\"from\" is set by the hub; a client may not send it", ref: "spoof"))])
        #expect(hub.take(b.0).isEmpty)
        #expect(hub.closeCodes[a.0] == nil)
    }

    @Test("a message to an absent peer gets peer_not_found with the message id")
    func absentPeer() {
        let (hub, a, _) = pair()
        let stranger = PrivateKey.generate().publicKey
        hub.send(a.0, .signal(OutgoingSignal(kind: .candidate, to: stranger, sealed: RouterHarness.box(), id: "c-17")))
        let messages = hub.take(a.0)
        guard case .error(let frame)? = messages.first else { Issue.record("expected an error, got \(messages)"); return }
        #expect(frame.code == "peer_not_found")
        #expect(frame.ref == "c-17")
        #expect(hub.closeCodes[a.0] == nil)
        #expect(hub.router.metrics.rejected[.peerNotFound] == 1)
    }

    @Test("a message to oneself is refused")
    func toSelf() {
        let (hub, a, _) = pair()
        hub.send(a.0, .signal(OutgoingSignal(kind: .offer, to: a.1.publicKey, sealed: RouterHarness.box())))
        #expect(errorCodes(hub.take(a.0)) == ["invalid_value"])
    }

    @Test("malformed frames get the decoder's error code, keep the connection open and disturb no one",
          arguments: [
              ("{not json", "malformed_json", nil),
              ("[1,2]", "not_an_object", nil),
              (#"{"type":"teleport","id":"t1"}"#, "unknown_type", "t1"),
              (#"{"type":"offer","to":42,"sealed":{},"id":"w1"}"#, "wrong_type", "w1"),
              (#"{"type":"offer","id":"m1"}"#, "missing_field", "m1"),
              (#"{"type":"offer","to":"short","sealed":{"nonce":"","box":""}}"#, "invalid_value", nil),
          ] as [(String, String, String?)])
    func malformed(text: String, code: String, ref: String?) {
        let (hub, a, b) = pair()
        hub.send(a.0, text: text)
        let messages = hub.take(a.0)
        guard case .error(let frame)? = messages.first, messages.count == 1 else { Issue.record("expected one error, got \(messages)"); return }
        #expect(frame.code == code)
        #expect(frame.ref == ref)
        #expect(hub.closeCodes[a.0] == nil)
        #expect(hub.take(b.0).isEmpty)
        // Still serving.
        hub.send(a.0, .signal(OutgoingSignal(kind: .offer, to: b.1.publicKey, sealed: RouterHarness.box())))
        #expect(hub.take(b.0).count == 1)
    }

    @Test("random and mutated frames never crash the core and always get an answer")
    func fuzz() {
        let (hub, a, b) = pair()
        let valid = ClientMessage.signal(OutgoingSignal(kind: .offer, to: b.1.publicKey, sealed: RouterHarness.box(), id: "f")).encoded()
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,0123456789.-+eEtrufalsn \u"#.utf8) + Array("abcdefXYZ".utf8)
        for round in 0..<2000 {
            var bytes = Array(valid.utf8)
            for _ in 0..<(1 + round % 6) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch round % 3 {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
            }
            hub.clock.advance(0.011)  // stay under the sustained rate
            hub.send(a.0, text: String(decoding: bytes, as: UTF8.self))
            let answers = hub.take(a.0).count + hub.take(b.0).count
            #expect(answers == 1, "frame \(String(decoding: bytes, as: UTF8.self)) got \(answers) answers")
            if answers != 1 { return }
        }
        #expect(hub.closeCodes[a.0] == nil)
    }

    @Test("an oversized frame is answered with frame_too_large before the transport closes it")
    func oversized() {
        let (hub, a, b) = pair()
        hub.perform(hub.router.connectionSentOversizedMessage(a.0))
        #expect(errorCodes(hub.take(a.0)) == ["frame_too_large"])
        hub.close(a.0)
        #expect(hub.take(b.0) == [.peerLeft(PeerLeft(publicKey: a.1.publicKey, reason: "disconnected"))])
        #expect(hub.router.metrics.rejected[.frameTooLarge] == 1)
    }
}
