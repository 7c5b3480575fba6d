import RiftProtocol
import Testing

@testable import RiftCrypto

@Suite("SignalSealer")
struct SignalSealerTests {
    @Test("every sealed vector directory holds one vector per signal kind")
    func allKindsCovered() throws {
        var kinds = Set<SignalKind>()
        for file in Vectors.files("sealed") {
            let vector = try Vectors.load(SealedVector.self, "sealed", file)
            if vector.expect == "ok" { kinds.insert(try SignalPayload.decode(Array(vector.payload.utf8)).kind) }
        }
        #expect(kinds == Set(SignalKind.allCases))
        #expect(Vectors.files("sealed").count >= 9)
    }

    @Test("sealing reproduces the vector byte for byte and opening gives the expected outcome",
          arguments: Vectors.files("sealed"))
    func sealedVector(file: String) throws {
        let vector = try Vectors.load(SealedVector.self, "sealed", file)
        let sender = try PrivateKey(base64: vector.senderPrivateKey)
        let recipient = try PrivateKey(base64: vector.recipientPrivateKey)
        #expect(sender.publicKey.base64 == vector.senderPublicKey)
        #expect(recipient.publicKey.base64 == vector.recipientPublicKey)

        let payload = try SignalPayload.decode(Array(vector.payload.utf8))
        #expect(payload.encoded() == Array(vector.payload.utf8), "the vector's payload is exactly encoded() output")
        let nonce = try Vectors.bytes(vector.nonce)
        let sealed = try SignalSealer.seal(payload, sender: sender, nonce: nonce)
        #expect(sealed.nonce == nonce)
        #expect(Base64.encode(sealed.ciphertext) == vector.sealedBox)

        let kind = try #require(SignalKind(rawValue: vector.relayed.type))
        let signal = RelayedSignal(
            kind: kind, from: try PublicKey(base64: vector.relayed.from),
            sealed: SealedBox(nonce: nonce, ciphertext: try Vectors.bytes(vector.relayed.box)))
        let opener = try PrivateKey(base64: vector.openerPrivateKey)
        if vector.expect == "ok" {
            #expect(try SignalSealer.open(signal, recipient: opener) == payload)
        } else {
            let error = #expect(throws: CryptoError.self) { try SignalSealer.open(signal, recipient: opener) }
            #expect(error?.code.rawValue == vector.expect)
        }
    }

    @Test("a payload opens only for its recipient")
    func wrongRecipient() throws {
        let (alice, bob, offer) = try Self.offer()
        let sealed = try SignalSealer.seal(offer, sender: alice)
        let signal = RelayedSignal(kind: .offer, from: alice.publicKey, sealed: sealed)
        #expect(try SignalSealer.open(signal, recipient: bob) == offer)
        let error = #expect(throws: CryptoError.self) { try SignalSealer.open(signal, recipient: .generate()) }
        #expect(error?.code == .openFailed)
        // Claiming another sender fails too: the box authenticates the sender's key.
        let spoofed = RelayedSignal(kind: .offer, from: PrivateKey.generate().publicKey, sealed: sealed)
        let spoofError = #expect(throws: CryptoError.self) { try SignalSealer.open(spoofed, recipient: bob) }
        #expect(spoofError?.code == .openFailed)
    }

    @Test("flipping any bit of the box or nonce, or truncating the box, makes it fail to open")
    func tampering() throws {
        let (alice, bob, offer) = try Self.offer()
        let sealed = try SignalSealer.seal(offer, sender: alice)
        var variants = [SealedBox]()
        for index in sealed.ciphertext.indices {
            var box = sealed
            box.ciphertext[index] ^= 0x80
            variants.append(box)
        }
        for index in sealed.nonce.indices {
            var box = sealed
            box.nonce[index] ^= 0x01
            variants.append(box)
        }
        variants.append(SealedBox(nonce: sealed.nonce, ciphertext: Array(sealed.ciphertext.dropLast())))
        variants.append(SealedBox(nonce: sealed.nonce, ciphertext: Array(sealed.ciphertext.prefix(15))))
        variants.append(SealedBox(nonce: sealed.nonce, ciphertext: []))
        variants.append(SealedBox(nonce: Array(sealed.nonce.prefix(23)), ciphertext: sealed.ciphertext))
        for box in variants {
            let signal = RelayedSignal(kind: .offer, from: alice.publicKey, sealed: box)
            let error = #expect(throws: CryptoError.self) { try SignalSealer.open(signal, recipient: bob) }
            #expect(error?.code == .openFailed)
        }
    }

    @Test("a message reflected back to its sender is refused")
    func reflection() throws {
        let (alice, bob, offer) = try Self.offer()
        let sealed = try SignalSealer.seal(offer, sender: alice)
        // The hub sends Alice's offer back to Alice, claiming Bob sent it. The shared key is symmetric, so it opens.
        let reflected = RelayedSignal(kind: .offer, from: bob.publicKey, sealed: sealed)
        let error = #expect(throws: CryptoError.self) { try SignalSealer.open(reflected, recipient: alice) }
        #expect(error?.code == .mismatch)
    }

    @Test("an envelope kind that differs from the payload's is refused", arguments: SignalKind.allCases.filter { $0 != .offer })
    func kindMismatch(relabelled: SignalKind) throws {
        let (alice, bob, offer) = try Self.offer()
        let sealed = try SignalSealer.seal(offer, sender: alice)
        let signal = RelayedSignal(kind: relabelled, from: alice.publicKey, sealed: sealed)
        let error = #expect(throws: CryptoError.self) { try SignalSealer.open(signal, recipient: bob) }
        #expect(error?.code == .mismatch)
    }

    @Test("a payload addressed to someone else is refused even when it opens")
    func misaddressed() throws {
        let (alice, bob, _) = try Self.offer()
        let carol = PrivateKey.generate()
        let toCarol = SignalPayload(kind: .endOfCandidates, from: alice.publicKey, to: carol.publicKey, session: "s1",
                                    generation: 0, body: .endOfCandidates)
        // A misbehaving sender boxes it for Bob; SignalSealer.seal itself always boxes for payload.to.
        let nonce = SecureRandom.bytes(24)
        let sealed = try CryptoBox.seal(toCarol.encoded(), nonce: nonce, to: bob.publicKey, from: alice.secret)
        let relayed = RelayedSignal(kind: .endOfCandidates, from: alice.publicKey, sealed: SealedBox(nonce: nonce, ciphertext: sealed))
        let error = #expect(throws: CryptoError.self) { try SignalSealer.open(relayed, recipient: bob) }
        #expect(error?.code == .mismatch)
    }

    @Test("a payload that names another sender than the one that sealed it is refused")
    func misattributed() throws {
        let (alice, bob, _) = try Self.offer()
        let carol = PrivateKey.generate()
        let fromCarol = SignalPayload(kind: .restart, from: carol.publicKey, to: bob.publicKey, session: "s1",
                                      generation: 0, body: .restart(reason: "x"))
        // Alice boxes a payload that claims to come from Carol; SignalSealer.seal itself refuses to.
        let nonce = SecureRandom.bytes(24)
        let sealed = try CryptoBox.seal(fromCarol.encoded(), nonce: nonce, to: bob.publicKey, from: alice.secret)
        let relayed = RelayedSignal(kind: .restart, from: alice.publicKey, sealed: SealedBox(nonce: nonce, ciphertext: sealed))
        let error = #expect(throws: CryptoError.self) { try SignalSealer.open(relayed, recipient: bob) }
        #expect(error?.code == .mismatch)
    }

    @Test("an offer or answer whose WireGuard key is not its sender's is refused", arguments: [SignalKind.offer, .answer])
    func foreignWireGuardKey(kind: SignalKind) throws {
        let alice = PrivateKey.generate(), bob = PrivateKey.generate(), carol = PrivateKey.generate()
        let description = SignalPayload.Body.description(
            ICEDescription(ufrag: "abcd", pwd: "0123456789abcdefghijkl", candidates: []),
            WireGuardParameters(publicKey: carol.publicKey, listenPort: 51820))
        let payload = SignalPayload(kind: kind, from: alice.publicKey, to: bob.publicKey, session: "s1", generation: 0,
                                    body: description)
        let sealed = try SignalSealer.seal(payload, sender: alice)
        let error = #expect(throws: CryptoError.self) {
            try SignalSealer.open(RelayedSignal(kind: kind, from: alice.publicKey, sealed: sealed), recipient: bob)
        }
        #expect(error?.code == .mismatch)
        // The same description naming Alice's own key opens.
        var own = payload
        own.body = .description(ICEDescription(ufrag: "abcd", pwd: "0123456789abcdefghijkl", candidates: []),
                                WireGuardParameters(publicKey: alice.publicKey, listenPort: 51820))
        let good = try SignalSealer.seal(own, sender: alice)
        #expect(try SignalSealer.open(RelayedSignal(kind: kind, from: alice.publicKey, sealed: good), recipient: bob) == own)
    }

    @Test("plaintext that is not a payload is refused as malformed; a proof of possession is not a signal")
    func malformedPayload() throws {
        let (alice, bob, _) = try Self.offer()
        let nonce = SecureRandom.bytes(24)
        for plaintext in [Array("not json".utf8), Array("{\"type\":\"offer\"}".utf8), []] {
            let box = try CryptoBox.seal(plaintext, nonce: nonce, to: bob.publicKey, from: alice.secret)
            let signal = RelayedSignal(kind: .offer, from: alice.publicKey, sealed: SealedBox(nonce: nonce, ciphertext: box))
            let error = #expect(throws: CryptoError.self) { try SignalSealer.open(signal, recipient: bob) }
            #expect(error?.code == .malformedPayload)
        }
        let challenge = Challenge(versions: [1], hubKey: bob.publicKey, nonce: SecureRandom.bytes(32))
        let proof = try PossessionProof.make(challenge: challenge, network: "home", key: alice)
        let error = #expect(throws: CryptoError.self) {
            try SignalSealer.open(RelayedSignal(kind: .offer, from: alice.publicKey, sealed: proof), recipient: bob)
        }
        #expect(error?.code == .malformedPayload)
    }

    @Test("sealing refuses a payload not from the sender, a bad nonce, an oversized payload and a low-order key")
    func sealRefusals() throws {
        let (alice, bob, offer) = try Self.offer()
        var codes = [CryptoError.Code?]()
        codes.append(#expect(throws: CryptoError.self) { try SignalSealer.seal(offer, sender: bob) }?.code)
        codes.append(#expect(throws: CryptoError.self) { try SignalSealer.seal(offer, sender: alice, nonce: [1, 2, 3]) }?.code)
        let huge = SignalPayload(kind: .candidate, from: alice.publicKey, to: bob.publicKey, session: "s", generation: 0,
                                 body: .candidate(String(repeating: "x", count: Limits.maximumSealedBytes)))
        codes.append(#expect(throws: CryptoError.self) { try SignalSealer.seal(huge, sender: alice) }?.code)
        var lowOrder = offer
        lowOrder.to = try PublicKey(bytes: [UInt8](repeating: 0, count: 32))
        codes.append(#expect(throws: CryptoError.self) { try SignalSealer.seal(lowOrder, sender: alice) }?.code)
        #expect(codes == [.mismatch, .sealFailed, .sealFailed, .sealFailed])
    }

    @Test("each seal draws a fresh nonce, and every box opens")
    func freshNonces() throws {
        let (alice, bob, offer) = try Self.offer()
        let first = try SignalSealer.seal(offer, sender: alice)
        let second = try SignalSealer.seal(offer, sender: alice)
        #expect(first.nonce.count == 24)
        #expect(first.nonce != second.nonce)
        #expect(first.ciphertext != second.ciphertext)
        for sealed in [first, second] {
            #expect(try SignalSealer.open(RelayedSignal(kind: .offer, from: alice.publicKey, sealed: sealed), recipient: bob) == offer)
        }
    }

    /// Two fresh peers and an offer from the first to the second.
    static func offer() throws -> (PrivateKey, PrivateKey, SignalPayload) {
        let alice = PrivateKey.generate(), bob = PrivateKey.generate()
        let offer = SignalPayload(
            kind: .offer, from: alice.publicKey, to: bob.publicKey, session: "a1b2", generation: 1,
            body: .description(ICEDescription(ufrag: "ufAB", pwd: "pw/+0123456789abcdefghi", candidates: ["candidate:1 1 UDP 1 10.0.0.1 1 typ host"]),
                               WireGuardParameters(publicKey: alice.publicKey, listenPort: 51820)))
        return (alice, bob, offer)
    }
}
