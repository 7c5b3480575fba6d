import RiftProtocol
import Testing

@testable import RiftCrypto

@Suite("PossessionProof")
struct PossessionProofTests {
    @Test("the proof vectors hold a valid case and refused ones")
    func coverage() throws {
        let expectations = try Vectors.files("proof").map { try Vectors.load(ProofVector.self, "proof", $0).expectValid }
        #expect(expectations.contains(true))
        #expect(expectations.filter { !$0 }.count >= 3)
    }

    @Test("making reproduces the vector byte for byte and verifying gives the expected answer",
          arguments: Vectors.files("proof"))
    func proofVector(file: String) throws {
        let vector = try Vectors.load(ProofVector.self, "proof", file)
        let hub = try PrivateKey(base64: vector.hubPrivateKey)
        let agent = try PrivateKey(base64: vector.agentPrivateKey)
        #expect(hub.publicKey.base64 == vector.hubPublicKey)
        #expect(agent.publicKey.base64 == vector.agentPublicKey)
        let challengeNonce = try Vectors.bytes(vector.challengeNonce)

        let statement = ProofStatement.bytes(
            challenge: challengeNonce, hubKey: hub.publicKey, agentKey: agent.publicKey, network: vector.network)
        #expect(TokenHash.hexString(statement) == vector.statementHex)
        let challenge = Challenge(versions: [1], hubKey: hub.publicKey, nonce: challengeNonce)
        let proof = try PossessionProof.make(
            challenge: challenge, network: vector.network, key: agent, nonce: try Vectors.bytes(vector.boxNonce))
        #expect(Base64.encode(proof.ciphertext) == vector.proofBox)

        let valid = PossessionProof.verify(
            proof, challengeNonce: try Vectors.bytes(vector.verify.challengeNonce), network: vector.verify.network,
            agentKey: try PublicKey(base64: vector.verify.agentPublicKey), hubKey: hub)
        #expect(valid == vector.expectValid)
    }

    @Test("a proof is bound to its challenge nonce, network, agent key and hub")
    func binding() throws {
        let hub = PrivateKey.generate(), agent = PrivateKey.generate()
        let nonce = SecureRandom.bytes(32)
        let proof = try PossessionProof.make(
            challenge: Challenge(versions: [1], hubKey: hub.publicKey, nonce: nonce), network: "home", key: agent)
        func verifies(_ proof: SealedBox, challengeNonce: [UInt8] = nonce, network: String = "home",
                      agentKey: PublicKey = agent.publicKey, hubKey: PrivateKey = hub) -> Bool {
            PossessionProof.verify(proof, challengeNonce: challengeNonce, network: network, agentKey: agentKey, hubKey: hubKey)
        }
        #expect(verifies(proof))
        // Replayed on a connection with another challenge nonce.
        #expect(!verifies(proof, challengeNonce: SecureRandom.bytes(32)))
        // Presented for another network, even one whose name extends this one.
        #expect(!verifies(proof, network: "office"))
        #expect(!verifies(proof, network: "home2"))
        #expect(!verifies(proof, network: ""))
        // Claimed for another key, or shown to another hub.
        #expect(!verifies(proof, agentKey: PrivateKey.generate().publicKey))
        #expect(!verifies(proof, hubKey: .generate()))
        // A challenge nonce of the wrong length never verifies.
        #expect(!verifies(proof, challengeNonce: Array(nonce.prefix(31))))
        // Altered or cut in transit.
        var tampered = proof
        tampered.ciphertext[tampered.ciphertext.count - 1] ^= 1
        #expect(!verifies(tampered))
        #expect(!verifies(SealedBox(nonce: proof.nonce, ciphertext: [])))
        #expect(!verifies(SealedBox(nonce: Array(proof.nonce.dropLast()), ciphertext: proof.ciphertext)))
    }

    @Test("a box from the agent to the hub that holds another statement does not verify")
    func otherStatement() throws {
        let hub = PrivateKey.generate(), agent = PrivateKey.generate()
        let nonce = SecureRandom.bytes(32)
        let statement = ProofStatement.bytes(challenge: nonce, hubKey: hub.publicKey, agentKey: agent.publicKey, network: "home")
        let boxNonce = SecureRandom.bytes(24)
        for plaintext in [Array(statement.dropLast()), statement + [0], [UInt8](repeating: 0, count: statement.count)] {
            let box = try CryptoBox.seal(plaintext, nonce: boxNonce, to: hub.publicKey, from: agent.secret)
            #expect(!PossessionProof.verify(SealedBox(nonce: boxNonce, ciphertext: box), challengeNonce: nonce,
                                            network: "home", agentKey: agent.publicKey, hubKey: hub))
        }
    }

    @Test("making a proof refuses a challenge nonce or box nonce of the wrong length")
    func makeRefusals() throws {
        let hub = PrivateKey.generate(), agent = PrivateKey.generate()
        let short = Challenge(versions: [1], hubKey: hub.publicKey, nonce: SecureRandom.bytes(16))
        let error = #expect(throws: CryptoError.self) { try PossessionProof.make(challenge: short, network: "home", key: agent) }
        #expect(error?.code == .sealFailed)
        let challenge = Challenge(versions: [1], hubKey: hub.publicKey, nonce: SecureRandom.bytes(32))
        let nonceError = #expect(throws: CryptoError.self) {
            try PossessionProof.make(challenge: challenge, network: "home", key: agent, nonce: SecureRandom.bytes(25))
        }
        #expect(nonceError?.code == .sealFailed)
    }
}
