import RiftProtocol

/// Proof that an agent holds the private key of the public key it claims (PROTOCOL.md § Proof of possession).
///
/// The agent seals `ProofStatement.bytes(...)` with `crypto_box` from its private key to the hub's public key.
/// Only the holder of the agent's private key (or the hub itself) can produce a box that opens with the pair;
/// the statement binds the proof to this connection's challenge nonce, this hub and this network, so it
/// cannot be replayed elsewhere.
public enum PossessionProof {
    /// Makes the proof for `challenge`: `crypto_box_easy(statement, nonce, challenge.hubKey, key)`.
    ///
    /// `nonce` nil draws 24 random bytes; a fixed nonce is for test vectors only. Fails with `sealFailed` when
    /// the challenge nonce is not 32 bytes, `nonce` is not 24 bytes, or libsodium refuses the hub key.
    public static func make(
        challenge: Challenge, network: String, key: PrivateKey, nonce: [UInt8]? = nil
    ) throws(CryptoError) -> SealedBox {
        guard challenge.nonce.count == Challenge.nonceBytes else {
            throw CryptoError(.sealFailed, "a challenge nonce is \(Challenge.nonceBytes) bytes, not \(challenge.nonce.count)")
        }
        let statement = ProofStatement.bytes(
            challenge: challenge.nonce, hubKey: challenge.hubKey, agentKey: key.publicKey, network: network)
        let nonce = nonce ?? Sodium.randomBytes(SealedBox.nonceBytes)
        let ciphertext = try CryptoBox.seal(statement, nonce: nonce, to: challenge.hubKey, from: key.secret)
        return SealedBox(nonce: nonce, ciphertext: ciphertext)
    }

    /// Whether `proof` proves possession of `agentKey` for the challenge `challengeNonce` and `network`.
    ///
    /// Opens the box with (`agentKey`, `hubKey`) and compares the plaintext with the expected statement using
    /// `sodium_memcmp` (constant time). Returns false on any failure: a box that does not authenticate, a
    /// challenge nonce that is not 32 bytes, or a statement for another nonce, hub, key or network.
    public static func verify(
        _ proof: SealedBox, challengeNonce: [UInt8], network: String, agentKey: PublicKey, hubKey: PrivateKey
    ) -> Bool {
        guard challengeNonce.count == Challenge.nonceBytes else { return false }
        guard let opened = try? CryptoBox.open(proof.ciphertext, nonce: proof.nonce, from: agentKey, to: hubKey.secret)
        else { return false }
        let expected = ProofStatement.bytes(
            challenge: challengeNonce, hubKey: hubKey.publicKey, agentKey: agentKey, network: network)
        return Sodium.constantTimeEqual(opened, expected)
    }
}
