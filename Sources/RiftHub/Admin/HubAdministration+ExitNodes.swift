import RiftProtocol

extension HubAdministration {
    /// `route approve <network> <peer> exit-node`: approves the peer as an exit node (PROTOCOL.md §6.15), also before
    /// it advertises one. Several peers of a network may be exit nodes; each client chooses one.
    public func approveExitNode(network: String, peer: String) throws(HubStoreError) -> String {
        let record = try resolvePeer(network: network, peer)
        let name = HubDatabase.describe(record.info)
        guard try database.approveExitNode(network: network, publicKey: record.info.publicKey, now: now()) else {
            return "Peer \(name) was already approved as an exit node in network \(network).\n"
        }
        let advertised = try database.exitNodes(network: network).first { $0.peer.publicKey == record.info.publicKey }?.advertised ?? false
        let effect = advertised
            ? "A running hub tells the other peers within about a second; a peer uses it only if it chooses it (riftgate up --exit-node \(record.info.name))."
            : "It does not advertise an exit node now; the approval takes effect when it does (riftgate up --advertise-exit-node)."
        return "Approved peer \(name) as an exit node in network \(network). \(effect)\n"
    }

    /// `route revoke <network> <peer> exit-node`: withdraws the approval; the peers using it stop within about a second.
    public func revokeExitNode(network: String, peer: String) throws(HubStoreError) -> String {
        let record = try resolvePeer(network: network, peer)
        try database.revokeExitNode(network: network, publicKey: record.info.publicKey)
        return "Revoked peer \(HubDatabase.describe(record.info)) as an exit node in network \(network). A running hub tells the other peers within about a second.\n"
    }
}
