/// The bytes an agent seals to the hub's key to prove that it holds the private key it claims.
///
/// `"riftgate-proof-v1" || 0x00 || challenge nonce (32) || hub key (32) || agent key (32) || network name (UTF-8)`.
/// Sealed with `crypto_box` from the agent's private key to the hub's public key, only the holder of the
/// agent's private key (or the hub) can produce it; the nonce makes it single-use and the network name
/// binds it to one network.
public enum ProofStatement {
    /// The domain-separation prefix.
    public static let context = Array("riftgate-proof-v1".utf8)

    /// The statement for one challenge.
    public static func bytes(challenge: [UInt8], hubKey: PublicKey, agentKey: PublicKey, network: String) -> [UInt8] {
        context + [0] + challenge + hubKey.bytes + agentKey.bytes + Array(network.utf8)
    }
}
