public import RiftCrypto
public import RiftProtocol

/// A hello's proof of possession to check (`HubAction.checkProof`), with everything the check needs but the hub's key.
///
/// The check is one X25519 scalar multiplication (about 50 µs), the largest single cost of a join, so the transport may
/// run it beside the thread that runs the router and hand the verdict back through `HubRouter.proofChecked`.
public struct ProofCheck<Connection: Hashable & Sendable>: Sendable, Hashable {
    /// The connection that said hello.
    public let connection: Connection
    /// The proof it sent.
    public let proof: SealedBox
    /// The nonce of the challenge it answered.
    public let challengeNonce: [UInt8]
    /// The network its token is for.
    public let network: String
    /// The key it claims.
    public let agentKey: PublicKey

    /// Checks the proof against the hub's key (`PossessionProof.verify`): the verdict for `HubRouter.proofChecked`.
    public func verify(hubKey: PrivateKey) -> ProofVerdict<Connection> {
        let valid = PossessionProof.verify(proof, challengeNonce: challengeNonce, network: network, agentKey: agentKey,
                                           hubKey: hubKey)
        return ProofVerdict(connection: connection, challengeNonce: challengeNonce, isValid: valid)
    }
}

/// Whether the proof of a `ProofCheck` held, for the connection and challenge it was made for.
public struct ProofVerdict<Connection: Hashable & Sendable>: Sendable, Hashable {
    /// The connection that said hello.
    public let connection: Connection
    /// The challenge nonce the proof answered: a verdict is applied only while the connection still waits on it.
    public let challengeNonce: [UInt8]
    /// Whether the proof shows possession of the claimed key's private key.
    public let isValid: Bool

    /// A verdict (normally made by `ProofCheck.verify`).
    public init(connection: Connection, challengeNonce: [UInt8], isValid: Bool) {
        self.connection = connection
        self.challengeNonce = challengeNonce
        self.isValid = isValid
    }
}
