import RiftProtocol

extension HubRouter {
    /// Forwards a signaling message to the named peer of the sender's own network, stamping the sender's
    /// proven key as `from`. The sealed box is passed on untouched. A recipient that is not connected in
    /// that network gets the sender a `peer_not_found` error referring to the message's `id`.
    mutating func relay(_ signal: OutgoingSignal, from connection: Connection, _ actions: inout [HubAction<Connection>]) {
        // Only the two fields needed are read, in place (see `ConnectionRecord.admitMessage`).
        guard let slot = connections.index(forKey: connection) else { return }
        guard let (sender, network) = connections.values[slot].relaySender() else {
            refuse(connection, ProtocolError(.notAuthenticated, "send hello before any other message"), ref: signal.id, &actions)
            return
        }
        guard signal.to != sender else {
            refuse(connection, ProtocolError(.invalidValue, "a peer cannot send signaling messages to itself"), ref: signal.id, &actions)
            return
        }
        guard networkAccess(network).introduces(sender, signal.to) else {
            refuse(connection, ProtocolError(.policyDenied, "the network's access policy keeps you and \(signal.to) apart"), ref: signal.id, &actions)
            return
        }
        guard let recipient = index[network]?[signal.to] else {
            let relayed = RelayedSignal(kind: signal.kind, from: sender, sealed: signal.sealed)
            if relayToOtherHub(relayed, to: signal.to, in: network, &actions) { return }
            refuse(connection, ProtocolError(.peerNotFound, "no peer \(signal.to) is connected in this network"), ref: signal.id, &actions)
            return
        }
        metrics.countRelayed(signal.kind)
        actions.append(.send(.signal(RelayedSignal(kind: signal.kind, from: sender, sealed: signal.sealed)), to: recipient))
    }
}
