import RiftProtocol

extension HubRouter {
    /// Frames a connection may send after its `hello` while the proof is checked; one more closes it. An agent sends
    /// nothing before `welcome`; this only bounds what a pipelining client makes the hub hold.
    static var framesHeldDuringProofCheck: Int { 64 }

    /// The verdict on a `checkProof`: admits the key and welcomes it, or refuses it with `proof_failed`; then handles
    /// the frames held meanwhile, in order, as if they had arrived now. Ignored when the connection no longer waits on
    /// this proof (it closed, its hello deadline passed, the hub is shutting down, or its id names another connection).
    public mutating func proofChecked(_ verdict: ProofVerdict<Connection>) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        let connection = verdict.connection
        guard !isShuttingDown, case .checkingProof(let wait)? = connections[connection]?.phase,
              wait.nonce == verdict.challengeNonce else { return actions }
        guard verdict.isValid else {
            failAuthentication(connection, reason: "proof_failed", .proofFailed,
                               "the proof does not show possession of the private key of \(wait.hello.publicKey)", &actions)
            return actions
        }
        admitProven(wait.hello, from: connection, &actions)
        for text in wait.heldFrames {
            guard let phase = connections[connection]?.phase, !phase.isEnding else { break }
            handle(text, from: connection, &actions)
        }
        return actions
    }

    /// Holds a frame that came while the connection's proof is checked; past the bound, refuses it and closes.
    mutating func holdWhileCheckingProof(_ text: String, from connection: Connection, _ actions: inout [HubAction<Connection>]) {
        guard var record = connections[connection], case .checkingProof(var wait) = record.phase else { return }
        guard wait.heldFrames.count < Self.framesHeldDuringProofCheck else {
            let refusal = ProtocolError(.notAuthenticated, "more than \(Self.framesHeldDuringProofCheck) messages before welcome")
            refuse(connection, refusal, ref: Self.messageID(in: text), &actions)
            return
        }
        wait.heldFrames.append(text)
        record.phase = .checkingProof(wait)
        connections[connection] = record
    }
}

extension ConnectionPhase {
    /// Whether the hub has closed the connection and ignores what it sends.
    var isEnding: Bool {
        if case .ending = self { true } else { false }
    }
}
