extension PeerSession {
    /// Why the pair in use is relayed, or nil when it is not (or no pair is in use): read from the generation whose
    /// pair carries the traffic (`RelayExplanation`). `hasReflexiveSource`: whether the hub gave any STUN or TURN server.
    func relayReason(hasReflexiveSource: Bool) -> String? {
        guard isRelayed, let generation = current?.selectedPair != nil ? current : standby else { return nil }
        return RelayExplanation(local: generation.localKinds, remote: generation.remoteKinds, relayOnly: generation.relayOnly,
                                controlling: controlling, failedAttempts: generation.failedAttemptsBefore,
                                hasReflexiveSource: hasReflexiveSource).text
    }
}
