public import RiftProtocol
import RiftCrypto
import RiftStore

/// A network as the admin CLI lists it.
public struct NetworkRecord: Sendable, Hashable {
    /// Name, prefixes and peer limit.
    public var settings: NetworkSettings
    /// When it was created (Unix seconds).
    public var createdAt: Int64
    /// Peers that are not revoked.
    public var peerCount: Int
    /// Tokens that are neither revoked nor expired.
    public var liveTokenCount: Int
}

extension HubDatabase {
    /// The default IPv4 overlay prefix (RFC 6598 shared address space).
    public static let defaultIPv4Prefix = IPv4Prefix("100.64.0.0/10")!
    /// The default peer limit of a network.
    public static let defaultMaximumPeers = 1024

    /// Creates a network. A nil `ipv6Prefix` gets a random ULA /64; a nil `ipv4Prefix` the default.
    ///
    /// Fails with `invalidInput` for a bad name, a prefix that cannot hold peers, or a limit outside
    /// 1...capacity; with `duplicateNetwork` when the name is taken.
    @discardableResult
    public func createNetwork(name: String, ipv4Prefix: IPv4Prefix? = nil, ipv6Prefix: IPv6Prefix? = nil,
                              maximumPeers: Int? = nil, dnsSuffix: String = DNSNames.defaultSuffix,
                              now: Int64) throws(HubStoreError) -> NetworkSettings {
        guard Names.isValidNetworkName(name) else {
            throw HubStoreError(.invalidInput, "invalid network name \"\(name)\": use 1-63 characters of a-z, 0-9 and '-', not starting with '-'")
        }
        try Self.checkDNSSuffix(dnsSuffix)
        let ipv4 = ipv4Prefix ?? Self.defaultIPv4Prefix
        guard OverlayAddressing.isUsable(ipv4) else {
            throw HubStoreError(.invalidInput, "IPv4 prefix \(ipv4) is too small: use /30 or shorter")
        }
        let ipv6 = ipv6Prefix ?? OverlayAddressing.randomULAPrefix(randomBytes: SecureRandom.bytes(5))
        guard OverlayAddressing.isUsable(ipv6) else {
            throw HubStoreError(.invalidInput, "IPv6 prefix \(ipv6) is too long: use /64 or shorter")
        }
        let capacity = OverlayAddressing.capacity(of: ipv4)
        let limit = maximumPeers ?? Int(min(UInt64(Self.defaultMaximumPeers), capacity))
        guard limit >= 1, UInt64(limit) <= capacity else {
            throw HubStoreError(.invalidInput, "the peer limit must be between 1 and \(capacity) for prefix \(ipv4)")
        }
        let settings = NetworkSettings(name: name, ipv4Prefix: ipv4, ipv6Prefix: ipv6, maximumPeers: limit, dnsSuffix: dnsSuffix)
        try write {
            guard try database.query("SELECT 1 FROM networks WHERE name = ?", [.text(name)]).isEmpty else {
                throw HubStoreError(.duplicateNetwork, "network \"\(name)\" already exists")
            }
            try database.run(
                "INSERT INTO networks (name, ipv4_prefix, ipv6_prefix, max_peers, created_at, dns_suffix) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(name), .text(ipv4.description), .text(ipv6.description), .integer(limit), .integer(now), .text(dnsSuffix)])
        }
        networkCache.removeAll()
        return settings
    }

    /// Sets the DNS suffix of network `name`; agents learn the new domain when they next join. Fails with
    /// `invalidInput` for a suffix that is not a valid domain, `unknownNetwork` when there is no such network.
    public func setDNSSuffix(network name: String, suffix: String) throws(HubStoreError) {
        try Self.checkDNSSuffix(suffix)
        defer { networkCache.removeAll() }
        try write {
            guard try database.run("UPDATE networks SET dns_suffix = ? WHERE name = ?", [.text(suffix), .text(name)]) == 1 else {
                throw HubStoreError(.unknownNetwork, "no network named \"\(name)\"")
            }
        }
    }

    private static func checkDNSSuffix(_ suffix: String) throws(HubStoreError) {
        guard DNSNames.isValidSuffix(suffix) else {
            throw HubStoreError(.invalidInput, "invalid DNS suffix \"\(suffix)\": use 1-3 labels of a-z, 0-9 and '-' joined by dots (at most 125 characters), not ending in \"local\" or a number, e.g. \"rift\" or \"vpn.example.org\"")
        }
    }

    /// Every network with its counts, sorted by name.
    public func networks(now: Int64) throws(HubStoreError) -> [NetworkRecord] {
        try read { () throws(SQLiteError) in
            try database.query("""
                SELECT n.name, n.ipv4_prefix, n.ipv6_prefix, n.max_peers, n.dns_suffix, n.created_at,
                    (SELECT COUNT(*) FROM peers p WHERE p.network = n.name AND p.revoked_at IS NULL),
                    (SELECT COUNT(*) FROM tokens t WHERE t.network = n.name AND t.revoked_at IS NULL
                        AND (t.expires_at IS NULL OR t.expires_at > ?))
                FROM networks n ORDER BY n.name
                """, [.integer(now)]).map { row throws(SQLiteError) in
                NetworkRecord(settings: try Self.settings(row), createdAt: try row.requiredInteger(5),
                              peerCount: Int(try row.requiredInteger(6)), liveTokenCount: Int(try row.requiredInteger(7)))
            }
        }
    }

    /// Deletes a network with its tokens and peers. Fails with `unknownNetwork` when there is none.
    public func deleteNetwork(name: String) throws(HubStoreError) {
        defer { networkCache.removeAll() }
        try write {
            guard try database.run("DELETE FROM networks WHERE name = ?", [.text(name)]) == 1 else {
                throw HubStoreError(.unknownNetwork, "no network named \"\(name)\"")
            }
        }
    }

    /// The settings of network `name`, nil when there is none. Served from `networkCache` when it was read since the
    /// change marker last moved (a hub polls the marker every tick, so an admin change is seen within one).
    public func networkSettings(named name: String) throws(HubStoreError) -> NetworkSettings? {
        if let cached = networkCache.settings(named: name) { return cached }
        let settings = try read { () throws(SQLiteError) in
            try database.query("SELECT name, ipv4_prefix, ipv6_prefix, max_peers, dns_suffix FROM networks WHERE name = ?", [.text(name)])
                .first.map { row throws(SQLiteError) in try Self.settings(row) }
        }
        if let settings { networkCache.store(settings) }
        return settings
    }

    /// Fails with `unknownNetwork` unless network `name` exists.
    func requireNetwork(_ name: String) throws(HubStoreError) {
        guard try networkSettings(named: name) != nil else {
            throw HubStoreError(.unknownNetwork, "no network named \"\(name)\"")
        }
    }

    /// Reads columns 0-4 (name, ipv4_prefix, ipv6_prefix, max_peers, dns_suffix) of a networks row.
    static func settings(_ row: SQLiteRow) throws(SQLiteError) -> NetworkSettings {
        let name = try row.requiredText(0)
        guard let ipv4 = IPv4Prefix(try row.requiredText(1)), let ipv6 = IPv6Prefix(try row.requiredText(2)) else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "network \(name) has a corrupt prefix in the database")
        }
        return NetworkSettings(name: name, ipv4Prefix: ipv4, ipv6Prefix: ipv6, maximumPeers: Int(try row.requiredInteger(3)),
                               dnsSuffix: try row.requiredText(4))
    }
}
