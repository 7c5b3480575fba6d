public import RiftProtocol
import RiftStore

/// One exit node as `riftgate-hub route list` shows it (the row with route `exit-node`).
public struct PeerExitNode: Sendable, Hashable {
    /// The peer.
    public var peer: PeerInfo
    /// Whether the peer advertised an exit node at its last hello.
    public var advertised: Bool
    /// Whether an administrator approved it.
    public var approved: Bool

    /// An exit node is active (sent to other peers as `exit_node`) when it is both advertised and approved.
    public var isActive: Bool { advertised && approved }
}

/// Exit nodes (PROTOCOL.md §6.15) in table `exit_nodes` (migration 7): one row per peer that advertises one or was
/// approved as one; a row that is neither is deleted.
extension HubDatabase {
    /// Records whether `publicKey` advertises an exit node in `network` now (a write only when it changed) and returns
    /// whether it is an active exit node (advertised and approved).
    func replaceAdvertisedExitNode(network: String, publicKey: PublicKey, advertised: Bool) throws(HubStoreError) -> Bool {
        let networkName = SQLiteValue.text(network), key = SQLiteValue.text(publicKey.base64)
        let stored = try read { () throws(SQLiteError) -> (advertised: Bool, approved: Bool)? in
            guard let row = try database.query("SELECT advertised, approved_at FROM exit_nodes WHERE network = ? AND public_key = ?",
                                               [networkName, key]).first else { return nil }
            return (try row.requiredInteger(0) != 0, row.integer(1) != nil)
        }
        let approved = stored?.approved ?? false
        if (stored?.advertised ?? false) != advertised {
            try write {
                if advertised || approved {
                    _ = try database.run("""
                        INSERT INTO exit_nodes (network, public_key, advertised) VALUES (?, ?, ?)
                        ON CONFLICT (network, public_key) DO UPDATE SET advertised = excluded.advertised
                        """, [networkName, key, .integer(advertised ? 1 : 0)])
                } else {
                    _ = try database.run("DELETE FROM exit_nodes WHERE network = ? AND public_key = ?", [networkName, key])
                }
            }
        }
        return advertised && approved
    }

    /// The active exit nodes of `network` (advertised, approved, peer not revoked). One indexed query.
    func activeExitNodeKeys(network: String) throws(HubStoreError) -> Set<PublicKey> {
        try read { () throws(SQLiteError) in
            var result: Set<PublicKey> = []
            for row in try database.query("""
                SELECT e.public_key FROM exit_nodes e
                JOIN peers p ON p.network = e.network AND p.public_key = e.public_key
                WHERE e.network = ? AND e.advertised = 1 AND e.approved_at IS NOT NULL AND p.revoked_at IS NULL
                """, [.text(network)]) {
                if let key = try? PublicKey(base64: try row.requiredText(0)) { result.insert(key) }
            }
            return result
        }
    }

    /// Every peer of `network` that advertises an exit node or is approved as one, in address order. Fails with
    /// `unknownNetwork`.
    public func exitNodes(network: String) throws(HubStoreError) -> [PeerExitNode] {
        let peers = try self.peers(network: network)
        let rows = try read { () throws(SQLiteError) -> [String: (Bool, Bool)] in
            var rows: [String: (Bool, Bool)] = [:]
            for row in try database.query("SELECT public_key, advertised, approved_at FROM exit_nodes WHERE network = ?", [.text(network)]) {
                rows[try row.requiredText(0)] = (try row.requiredInteger(1) != 0, row.integer(2) != nil)
            }
            return rows
        }
        return peers.compactMap { peer in
            guard let (advertised, approved) = rows[peer.info.publicKey.base64], advertised || approved else { return nil }
            return PeerExitNode(peer: peer.info, advertised: advertised, approved: approved)
        }
    }

    /// Approves `publicKey` as an exit node of `network`, also before it advertises one (it becomes active when it
    /// does). Fails with `unknownNetwork`, `unknownPeer`, or `invalidInput` for a revoked peer. Returns false when it
    /// was approved already. A running hub tells the other peers within about a second.
    public func approveExitNode(network: String, publicKey: PublicKey, now: Int64) throws(HubStoreError) -> Bool {
        let peers = try self.peers(network: network)
        guard let peer = peers.first(where: { $0.info.publicKey == publicKey }) else {
            throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
        }
        guard peer.revokedAt == nil else {
            throw HubStoreError(.invalidInput, "peer \(Self.describe(peer.info)) of network \"\(network)\" is revoked; it cannot be approved as an exit node")
        }
        return try write {
            let changed = try database.run("""
                INSERT INTO exit_nodes (network, public_key, advertised, approved_at) VALUES (?, ?, 0, ?)
                ON CONFLICT (network, public_key) DO UPDATE SET approved_at = excluded.approved_at WHERE exit_nodes.approved_at IS NULL
                """, [.text(network), .text(publicKey.base64), .integer(now)])
            return changed > 0
        }
    }

    /// Withdraws the exit-node approval of `publicKey`; fails with `invalidInput` when it was not approved.
    public func revokeExitNode(network: String, publicKey: PublicKey) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            let key = SQLiteValue.text(publicKey.base64)
            let removed = try database.run("UPDATE exit_nodes SET approved_at = NULL WHERE network = ? AND public_key = ? AND approved_at IS NOT NULL",
                                           [.text(network), key])
            guard removed > 0 else {
                throw HubStoreError(.invalidInput, "peer \(publicKey) is not approved as an exit node in network \"\(network)\"")
            }
            _ = try database.run("DELETE FROM exit_nodes WHERE network = ? AND public_key = ? AND advertised = 0", [.text(network), key])
        }
    }
}
