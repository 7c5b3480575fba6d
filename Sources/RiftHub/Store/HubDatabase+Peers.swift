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
    /// Whether the administrator set its name (`peer rename`), which its agent's `hello.name` no longer replaces.
    public var nameSetByAdmin = false
}

extension HubDatabase {
    /// The peers of `network`, by IPv4 address. Fails with `unknownNetwork`.
    public func peers(network: String) throws(HubStoreError) -> [PeerRecord] {
        try requireNetwork(network)
        return try read { () throws(SQLiteError) in
            try database.query("""
                SELECT public_key, name, ipv4, ipv6, first_seen_at, last_seen_at, revoked_at, dns_name, name_source
                FROM peers WHERE network = ? ORDER BY host_offset
                """, [.text(network)]).map { row throws(SQLiteError) in
                PeerRecord(info: try Self.peerInfo(row, dnsNameColumn: 7), firstSeenAt: try row.requiredInteger(4),
                           lastSeenAt: try row.requiredInteger(5), revokedAt: row.integer(6),
                           nameSetByAdmin: row.text(8) == Self.adminNameSource)
            }
        }
    }

    /// Revokes `publicKey` in `network`: a running hub closes its session within about a second and
    /// refuses it from then on; its addresses stay reserved, its DNS name is free for another peer, its route and exit-node approvals are dropped. Fails with `unknownNetwork` or `unknownPeer`.
    public func revokePeer(network: String, publicKey: PublicKey, now: Int64) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            guard try database.query("SELECT 1 FROM peers WHERE network = ? AND public_key = ?",
                                     [.text(network), .text(publicKey.base64)]).first != nil else {
                throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
            }
            try database.run("UPDATE peers SET revoked_at = ?, dns_name = NULL WHERE network = ? AND public_key = ? AND revoked_at IS NULL",
                             [.integer(now), .text(network), .text(publicKey.base64)])
            // A revoked peer forwards nothing: its route approvals go with it (a new key must be approved afresh).
            try database.run("DELETE FROM approved_routes WHERE network = ? AND public_key = ?", [.text(network), .text(publicKey.base64)])
            try database.run("UPDATE exit_nodes SET approved_at = NULL WHERE network = ? AND public_key = ?", [.text(network), .text(publicKey.base64)])
        }
    }

    /// Admits a peer (see `HubDirectory.admitPeer`), in one transaction.
    /// A rejoin within this many seconds of the last recorded sighting, with the same name and token, writes nothing:
    /// last-seen and token last-used times are kept to the minute (the hub refreshes last-seen once a minute anyway),
    /// and a client cycling joins must not cost a disk write per cycle.
    static let unchangedJoinWindowSeconds: Int64 = 60

    func admit(publicKey: PublicKey, name: String, network: NetworkSettings, tokenID: String, now: Int64) throws(HubStoreError) -> PeerAdmission {
        let key = SQLiteValue.text(publicKey.base64), networkName = SQLiteValue.text(network.name)
        return try write { () throws -> PeerAdmission in
            let existing = try database.query(
                "SELECT public_key, name, ipv4, ipv6, revoked_at, last_seen_at, dns_name, name_source, token_id FROM peers WHERE network = ? AND public_key = ?",
                [networkName, key]).first
            var info: PeerInfo
            var allocated: (offset: UInt64, ipv4: IPv4Address, ipv6: IPv6Address)?
            if let existing {
                guard existing.integer(4) == nil else { return .revoked }
                info = try Self.peerInfo(existing, dnsNameColumn: 6)
            } else {
                let active = try database.query("SELECT COUNT(*) FROM peers WHERE network = ? AND revoked_at IS NULL", [networkName])
                guard try active.first?.requiredInteger(0) ?? 0 < Int64(network.maximumPeers) else { return .networkFull }
                guard let free = try freeAddresses(in: network) else { return .networkFull }
                allocated = free
                info = PeerInfo(publicKey: publicKey, name: name, ipv4: free.ipv4, ipv6: free.ipv6)
            }
            // Checked for every join, the unchanged fast path included: a key the token never admitted must not get in
            // on the strength of an earlier join made with another token.
            let limits: TokenLimits
            switch try applyTokenLimits(tokenID: tokenID, key: key, now: now) {
            case .failure(let exhausted): return .tokenExhausted(maximumKeys: exhausted.maximumKeys)
            case .success(let granted): limits = granted
            }
            if let existing {
                // A name the administrator set sticks (PROTOCOL.md §6.13): the agent's hello.name does not replace it.
                let adminNamed = existing.text(7) == Self.adminNameSource
                let wanted = adminNamed ? info.name : name
                let seenRecently = now - (existing.integer(5) ?? 0) < Self.unchangedJoinWindowSeconds
                let sameToken = existing.text(8) == tokenID
                if info.name == wanted, info.dnsName != nil, seenRecently, sameToken, try tokenUsedRecently(tokenID, now: now) {
                    return .admitted(info)
                }
                info.name = wanted
                if !(adminNamed && info.dnsName != nil) {
                    info.dnsName = try dnsName(for: wanted, keeping: info.dnsName, network: networkName, key: key)
                }
                try database.run("UPDATE peers SET name = ?, dns_name = ?, last_seen_at = ?, token_id = ? WHERE network = ? AND public_key = ?",
                                 [.text(wanted), .text(info.dnsName!), .integer(now), .text(tokenID), networkName, key])
            } else if let allocated {
                info.dnsName = try dnsName(for: name, keeping: nil, network: networkName, key: key)
                try database.run("""
                    INSERT INTO peers (network, public_key, name, host_offset, ipv4, ipv6, first_seen_at, last_seen_at, dns_name, token_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [networkName, key, .text(name), .integer(Int64(allocated.offset)), .text(allocated.ipv4.description),
                          .text(allocated.ipv6.description), .integer(now), .integer(now), .text(info.dnsName!), .text(tokenID)])
                if limits.ephemeral {
                    try database.run("INSERT INTO ephemeral_peers (network, public_key) VALUES (?, ?)", [networkName, key])
                }
            }
            try database.run("UPDATE tokens SET last_used_at = ? WHERE id = ?", [.integer(now), .text(tokenID)])
            return .admitted(info)
        }
    }

    /// The addresses for a new peer: the offset after the highest in use, or, once that runs past the prefix (only
    /// after many peers were removed, e.g. ephemeral ones), the lowest free offset. Nil when the prefix is full.
    private func freeAddresses(in network: NetworkSettings) throws(SQLiteError) -> (offset: UInt64, ipv4: IPv4Address, ipv6: IPv6Address)? {
        let name = SQLiteValue.text(network.name)
        let highest = try database.query("SELECT MAX(host_offset) FROM peers WHERE network = ?", [name]).first?.integer(0)
        var offset = UInt64(highest ?? 0) + 1
        if OverlayAddressing.addresses(offset: offset, ipv4Prefix: network.ipv4Prefix, ipv6Prefix: network.ipv6Prefix) == nil {
            let gap = try database.query("""
                SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM peers WHERE network = ?1 AND host_offset = 1) THEN 1
                ELSE (SELECT MIN(p.host_offset) + 1 FROM peers p WHERE p.network = ?1 AND NOT EXISTS
                      (SELECT 1 FROM peers q WHERE q.network = ?1 AND q.host_offset = p.host_offset + 1)) END
                """, [name]).first?.integer(0)
            offset = UInt64(gap ?? 1)
        }
        guard let (ipv4, ipv6) = OverlayAddressing.addresses(offset: offset, ipv4Prefix: network.ipv4Prefix,
                                                             ipv6Prefix: network.ipv6Prefix) else { return nil }
        return (offset, ipv4, ipv6)
    }

    /// The DNS label for a peer named `name` (PROTOCOL.md §6.13): the label derived from the name, or `<label>-2`,
    /// `<label>-3`, … when another peer of the network holds it. A peer keeps the label it has (`current`) as long as
    /// that is still one of its name's candidates, so a rejoin or a duplicate arriving later never renames it.
    /// Costs one indexed lookup when the label is free, plus one range scan over the taken `<label>-N` otherwise.
    func dnsName(for name: String, keeping current: String?, network: SQLiteValue, key: SQLiteValue) throws(SQLiteError) -> String {
        let base = DNSNames.label(derivedFrom: name, maximumLength: DNSNames.maximumLabelLength)
        if let current, current == base || Self.isNumberedCandidate(current, of: base) { return current }
        let holder = try database.query("SELECT public_key FROM peers WHERE network = ? AND dns_name = ?", [network, .text(base)]).first
        guard holder != nil else { return base }
        // '-' is 0x2D and '.' 0x2E: this range is every label starting with "<base>-" (shortened bases included
        // below, checked one by one).
        var taken = Set(try database.query("SELECT dns_name FROM peers WHERE network = ? AND dns_name >= ? AND dns_name < ?",
                                           [network, .text(base + "-"), .text(base + ".")]).compactMap { $0.text(0) })
        taken.insert(base)
        var n = 2
        while true {
            let candidate = DNSNames.candidate(base, n)
            if candidate.count < base.count + 1 + String(n).count, !taken.contains(candidate) {
                // A shortened base (a 60+ character name): not covered by the range scan, ask for it.
                if try database.query("SELECT 1 FROM peers WHERE network = ? AND dns_name = ?", [network, .text(candidate)]).isEmpty {
                    return candidate
                }
            } else if !taken.contains(candidate) {
                return candidate
            }
            n += 1
        }
    }

    /// Whether `label` is `<base>-<n>` (n ≥ 2) as `DNSNames.candidate` forms it.
    static func isNumberedCandidate(_ label: String, of base: String) -> Bool {
        guard let dash = label.lastIndex(of: "-"), let n = Int(label[label.index(after: dash)...]), n >= 2 else { return false }
        return DNSNames.candidate(base, n) == label
    }

    /// Whether the token's last use is recorded within `unchangedJoinWindowSeconds` of `now`.
    private func tokenUsedRecently(_ tokenID: String, now: Int64) throws(SQLiteError) -> Bool {
        let used = try database.query("SELECT last_used_at FROM tokens WHERE id = ?", [.text(tokenID)]).first?.integer(0)
        return used.map { now - $0 < Self.unchangedJoinWindowSeconds } ?? false
    }

    /// Writes `now` as the last-seen time of `peers`, in one transaction.
    func touch(_ peers: [PeerAddress], now: Int64) throws(HubStoreError) {
        guard !peers.isEmpty else { return }
        try write {
            switch database.dialect {
            case .postgres:
                // One statement (one round trip) for the whole chunk: the write lock is shared by every hub of a
                // cluster, and one UPDATE per peer held it for about 0.1 ms a row.
                try database.run("""
                    UPDATE peers SET last_seen_at = ?1
                    FROM unnest(?2::text[], ?3::text[]) AS seen(network, public_key)
                    WHERE peers.network = seen.network AND peers.public_key = seen.public_key
                    """, [.integer(now), .text(Self.postgresTextArray(peers.map(\.network))),
                          .text(Self.postgresTextArray(peers.map(\.publicKey.base64)))])
            case .sqlite:
                for peer in peers {
                    try database.run("UPDATE peers SET last_seen_at = ? WHERE network = ? AND public_key = ?",
                                     [.integer(now), .text(peer.network), .text(peer.publicKey.base64)])
                }
            }
        }
    }

    /// `values` as a PostgreSQL array literal (`{"a","b"}`), every element quoted with `\` and `"` escaped.
    public static func postgresTextArray(_ values: [String]) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }

    /// Reads columns 0-3 (public_key, name, ipv4, ipv6) of a peers row, and its DNS name from `dnsNameColumn`.
    static func peerInfo(_ row: SQLiteRow, dnsNameColumn: Int) throws(SQLiteError) -> PeerInfo {
        guard let key = try? PublicKey(base64: try row.requiredText(0)), let ipv4 = IPv4Address(try row.requiredText(2)),
              let ipv6 = IPv6Address(try row.requiredText(3)) else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "corrupt peer row in the database")
        }
        return PeerInfo(publicKey: key, name: try row.requiredText(1), ipv4: ipv4, ipv6: ipv6, dnsName: row.text(dnsNameColumn))
    }
}
