import RiftProtocol

/// Signals lost with a hub connection (issue 12).
///
/// `HubLink.send` writes to the connection it holds and learns nothing more: a connection that is already dead (a NAT
/// router that forgot its mapping, say) takes what was written with it, and a signal written while there is no
/// connection is dropped. Every welcome is a new connection, so whatever was written before it may be lost; the hub
/// gives no receipt, so which signal was lost is not known. What is known is which exchanges depend on one:
/// - a generation still negotiating (its offer, answer or candidates);
/// - a signal written while a generation negotiated, or a `restart` asked, with no pair selected since, when the path
///   in use has not received anything since it was written: the generation was given up (its ICE failed, perhaps for
///   want of the lost offer) and the old path it was meant to replace is still silent, or the restart was not answered.
///
/// The welcome resumes each such exchange at once (`Mesh.hubWelcome`): the controlling side starts a generation afresh,
/// the controlled side asks for one (`restart`, session "none"). A selected pair settles the exchange: signals written
/// after it (an end of candidates) cannot stall anything, and a connection that stayed up resends nothing.
extension Mesh {
    /// Marks the peers for which `actions` write a signal that their exchange depends on (see above).
    mutating func noteSignalsAtRisk(in actions: [MeshAction]) {
        for case .sendSignal(let payload) in actions {
            guard var peer = peers[payload.to], peer.signalAtRiskSince == nil,
                  peer.isNegotiating || payload.kind == .restart else { continue }
            peer.signalAtRiskSince = now
            peers[payload.to] = peer
        }
    }

    /// The current generation selected a pair: the exchange no longer depends on anything written before.
    mutating func settleSignals(of key: PublicKey) {
        guard peers[key]?.current?.selectedPair != nil else { return }
        peers[key]?.signalAtRiskSince = nil
    }
}

extension PeerSession {
    /// Whether the exchange with this peer may be waiting for a signal that was lost with a hub connection (see
    /// Mesh+LostSignals): a generation negotiating, or a signal written since the last selected pair and nothing
    /// received over the path in use since then.
    var mayHaveLostSignal: Bool {
        if isNegotiating { return true }
        guard let since = signalAtRiskSince else { return false }
        return receiveWatch.receivedAt <= since
    }
}
