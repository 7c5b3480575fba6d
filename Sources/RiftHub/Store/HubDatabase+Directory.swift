public import RiftCrypto
public import RiftProtocol
import RiftStore

/// The hub's SQLite database serves as the routing core's directory.
extension HubDatabase: HubDirectory {
    public func network(named name: String) throws(DirectoryError) -> NetworkSettings? {
        try directory { () throws(HubStoreError) in try networkSettings(named: name) }
    }

    public func liveToken(hash: TokenHash, now: Int64) throws(DirectoryError) -> TokenGrant? {
        try directory { () throws(HubStoreError) in try liveTokenGrant(hash: hash, now: now) }
    }

    public func admitPeer(publicKey: PublicKey, name: String, network: NetworkSettings, tokenID: String, now: Int64)
        throws(DirectoryError) -> PeerAdmission {
        try directory { () throws(HubStoreError) in try admit(publicKey: publicKey, name: name, network: network, tokenID: tokenID, now: now) }
    }

    public func recordLastSeen(_ peers: [PeerAddress], now: Int64) throws(DirectoryError) {
        try directory { () throws(HubStoreError) in try touch(peers, now: now) }
    }

    public func changeMarker() throws(DirectoryError) -> Int64 {
        try directory { () throws(HubStoreError) in try read { () throws(SQLiteError) in try currentChangeMarker() } }
    }

    public func adminRenames(after revision: Int64) throws(DirectoryError) -> [PeerRename] {
        try directory { () throws(HubStoreError) in try renames(after: revision) }
    }

    public func networkCount() throws(DirectoryError) -> Int {
        try directory { () throws(HubStoreError) in
            try read { () throws(SQLiteError) in Int(try database.query("SELECT COUNT(*) FROM networks").first?.requiredInteger(0) ?? 0) }
        }
    }

    /// One query, once per start (no index on `last_seen_at`: a scan of the peers).
    public func peersLastConnected(window: Int64) throws(DirectoryError) -> [LastConnectedPeer] {
        try directory { () throws(HubStoreError) in
            try read { () throws(SQLiteError) in
                var peers: [LastConnectedPeer] = []
                for row in try database.query("""
                    SELECT network, public_key, token_id FROM peers WHERE last_seen_at >= (SELECT MAX(last_seen_at) FROM peers) - ?
                    """, [.integer(window)]) {
                    guard let key = try? PublicKey(base64: try row.requiredText(1)) else { continue }
                    peers.append(LastConnectedPeer(address: PeerAddress(network: try row.requiredText(0), publicKey: key),
                                                   tokenID: row.text(2)))
                }
                return peers
            }
        }
    }

    public func removeStaleEphemeralPeers(lastSeenBefore cutoff: Int64,
                                          unlessConnected isConnected: (PeerAddress) -> Bool) throws(DirectoryError) -> [PeerAddress] {
        try directory { () throws(HubStoreError) in try deleteStaleEphemeralPeers(lastSeenBefore: cutoff, unlessConnected: isConnected) }
    }

    /// Three small queries (existing networks, live tokens, revoked peers) answer any number of grants.
    public func withdrawnGrants(_ grants: Set<SessionGrant>, now: Int64) throws(DirectoryError) -> [SessionGrant: GrantWithdrawal] {
        try directory { () throws(HubStoreError) in
            try read { () throws(SQLiteError) in
                let networks = Set(try database.query("SELECT name FROM networks").map { row throws(SQLiteError) in try row.requiredText(0) })
                var liveTokens: [String: String] = [:]
                for row in try database.query("SELECT id, network FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                                              [.integer(now)]) {
                    liveTokens[try row.requiredText(0)] = try row.requiredText(1)
                }
                var revokedPeers: Set<String> = []
                for row in try database.query("SELECT network, public_key FROM peers WHERE revoked_at IS NOT NULL") {
                    revokedPeers.insert(try row.requiredText(0) + " " + (try row.requiredText(1)))
                }
                var withdrawn: [SessionGrant: GrantWithdrawal] = [:]
                for grant in grants {
                    if !networks.contains(grant.network) {
                        withdrawn[grant] = .networkDeleted
                    } else if let key = grant.publicKey, revokedPeers.contains(grant.network + " " + key.base64) {
                        withdrawn[grant] = .peerRevoked
                    } else if grant.tokenID != SessionGrant.unknownToken, liveTokens[grant.tokenID] != grant.network {
                        withdrawn[grant] = .tokenRevoked
                    }
                }
                return withdrawn
            }
        }
    }

    private func directory<Result>(_ body: () throws(HubStoreError) -> Result) throws(DirectoryError) -> Result {
        do {
            return try body()
        } catch {
            throw DirectoryError(reason: error.reason, code: error.code)
        }
    }
}

extension HubDatabase: HubRouteDirectory {
    public func advertiseRoutes(network: String, publicKey: PublicKey, routes: [SubnetRoute]) throws(DirectoryError) -> [SubnetRoute] {
        try directory { () throws(HubStoreError) in try replaceAdvertisedRoutes(network: network, publicKey: publicKey, routes: routes) }
    }

    public func activeRoutes(network: String) throws(DirectoryError) -> [PublicKey: [SubnetRoute]] {
        try directory { () throws(HubStoreError) in try activeRouteTable(network: network) }
    }
}

extension HubDatabase: HubExitNodeDirectory {
    public func advertiseExitNode(network: String, publicKey: PublicKey, advertised: Bool) throws(DirectoryError) -> Bool {
        try directory { () throws(HubStoreError) in try replaceAdvertisedExitNode(network: network, publicKey: publicKey, advertised: advertised) }
    }

    public func activeExitNodes(network: String) throws(DirectoryError) -> Set<PublicKey> {
        try directory { () throws(HubStoreError) in try activeExitNodeKeys(network: network) }
    }
}
