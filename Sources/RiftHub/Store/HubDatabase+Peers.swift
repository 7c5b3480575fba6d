public import RiftProtocol
import RiftStore

/// A peer as the admin CLI lists it.
public struct PeerRecord: Sendable, Hashable {
    /// Key, name and addresses.
    public var info: PeerInfo
    /// When the hub first admitted it (Unix seconds).
    public var firstSeenAt: Int64
    /// When it was last connected, as of the hub's last write (at most a minute old while connected).
    public var lastSeenAt: Int64
    /// When it was revoked, if it was.
    public var revokedAt: Int64?
}

extension HubDatabase {
    /// The peers of `network`, by IPv4 address. Fails with `unknownNetwork`.
    public func peers(network: String) throws(HubStoreError) -> [PeerRecord] {
        try requireNetwork(network)
        return try read { () throws(SQLiteError) in
            try database.query("""
                SELECT public_key, name, ipv4, ipv6, first_seen_at, last_seen_at, revoked_at
                FROM peers WHERE network = ? ORDER BY host_offset
                """, [.text(network)]).map { row throws(SQLiteError) in
                PeerRecord(info: try Self.peerInfo(row), firstSeenAt: try row.requiredInteger(4),
                           lastSeenAt: try row.requiredInteger(5), revokedAt: row.integer(6))
            }
        }
    }

    /// Revokes `publicKey` in `network`: a running hub closes its session within about a second and
    /// refuses it from then on; its addresses stay reserved. Fails with `unknownNetwork` or `unknownPeer`.
    public func revokePeer(network: String, publicKey: PublicKey, now: Int64) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            guard try database.query("SELECT 1 FROM peers WHERE network = ? AND public_key = ?",
                                     [.text(network), .text(publicKey.base64)]).first != nil else {
                throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
            }
            try database.run("UPDATE peers SET revoked_at = ? WHERE network = ? AND public_key = ? AND revoked_at IS NULL",
                             [.integer(now), .text(network), .text(publicKey.base64)])
        }
    }

    /// Admits a peer (see `HubDirectory.admitPeer`), in one transaction.
    /// A rejoin within this many seconds of the last recorded sighting, with the same name, writes nothing: last-seen
    /// and token last-used times are kept to the minute (the hub refreshes last-seen once a minute anyway), and a
    /// client cycling joins must not cost a disk write per cycle.
    static let unchangedJoinWindowSeconds: Int64 = 60

    func admit(publicKey: PublicKey, name: String, network: NetworkSettings, tokenID: String, now: Int64) throws(HubStoreError) -> PeerAdmission {
        let key = SQLiteValue.text(publicKey.base64), networkName = SQLiteValue.text(network.name)
        return try write { () throws -> PeerAdmission in
            let existing = try database.query(
                "SELECT public_key, name, ipv4, ipv6, revoked_at, last_seen_at FROM peers WHERE network = ? AND public_key = ?",
                [networkName, key]).first
            var info: PeerInfo
            if let existing {
                guard existing.integer(4) == nil else { return .revoked }
                info = try Self.peerInfo(existing)
                let seenRecently = now - (existing.integer(5) ?? 0) < Self.unchangedJoinWindowSeconds
                if info.name == name, seenRecently, try tokenUsedRecently(tokenID, now: now) { return .admitted(info) }
                info.name = name
                try database.run("UPDATE peers SET name = ?, last_seen_at = ? WHERE network = ? AND public_key = ?",
                                 [.text(name), .integer(now), networkName, key])
            } else {
                let active = try database.query("SELECT COUNT(*) FROM peers WHERE network = ? AND revoked_at IS NULL", [networkName])
                guard try active.first?.requiredInteger(0) ?? 0 < Int64(network.maximumPeers) else { return .networkFull }
                let highest = try database.query("SELECT MAX(host_offset) FROM peers WHERE network = ?", [networkName]).first?.integer(0)
                let offset = UInt64(highest ?? 0) + 1
                guard let (ipv4, ipv6) = OverlayAddressing.addresses(offset: offset, ipv4Prefix: network.ipv4Prefix,
                                                                     ipv6Prefix: network.ipv6Prefix) else { return .networkFull }
                info = PeerInfo(publicKey: publicKey, name: name, ipv4: ipv4, ipv6: ipv6)
                try database.run("""
                    INSERT INTO peers (network, public_key, name, host_offset, ipv4, ipv6, first_seen_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [networkName, key, .text(name), .integer(Int64(offset)), .text(ipv4.description), .text(ipv6.description),
                          .integer(now), .integer(now)])
            }
            try database.run("UPDATE tokens SET last_used_at = ? WHERE id = ?", [.integer(now), .text(tokenID)])
            return .admitted(info)
        }
    }

    /// Whether the token's last use is recorded within `unchangedJoinWindowSeconds` of `now`.
    private func tokenUsedRecently(_ tokenID: String, now: Int64) throws(SQLiteError) -> Bool {
        let used = try database.query("SELECT last_used_at FROM tokens WHERE id = ?", [.text(tokenID)]).first?.integer(0)
        return used.map { now - $0 < Self.unchangedJoinWindowSeconds } ?? false
    }

    /// Writes `now` as the last-seen time of `peers`, in one transaction.
    func touch(_ peers: [PeerAddress], now: Int64) throws(HubStoreError) {
        try write {
            for peer in peers {
                try database.run("UPDATE peers SET last_seen_at = ? WHERE network = ? AND public_key = ?",
                                 [.integer(now), .text(peer.network), .text(peer.publicKey.base64)])
            }
        }
    }

    /// Reads columns 0-3 (public_key, name, ipv4, ipv6) of a peers row.
    static func peerInfo(_ row: SQLiteRow) throws(SQLiteError) -> PeerInfo {
        guard let key = try? PublicKey(base64: try row.requiredText(0)), let ipv4 = IPv4Address(try row.requiredText(2)),
              let ipv6 = IPv6Address(try row.requiredText(3)) else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "corrupt peer row in the database")
        }
        return PeerInfo(publicKey: key, name: try row.requiredText(1), ipv4: ipv4, ipv6: ipv6)
    }
}
