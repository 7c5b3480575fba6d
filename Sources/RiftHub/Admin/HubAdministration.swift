import RiftProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The admin CLI's operations on the hub database, each returning the text to print.
///
/// The CLI runs in its own process next to a running hub; the hub notices every change within about a
/// second (it polls SQLite's `data_version`) and closes the sessions a revocation affects. Every failure
/// throws `HubStoreError` with a message meant for the person at the terminal.
public struct HubAdministration {
    let database: HubDatabase
    let now: () -> Int64

    /// Opens (creating if needed) the database at `databasePath`: a SQLite file, or a PostgreSQL URL whose
    /// running hubs learn of every change through the database's change marker.
    public init(databasePath: String, now: @escaping () -> Int64 = { Int64(time(nil)) }) throws(HubStoreError) {
        self.database = try HubDatabase(location: databasePath, announcesChanges: true)
        self.now = now
    }

    /// `network create`: prefixes as text (nil = defaults); reports the settings chosen.
    public func createNetwork(name: String, ipv4Prefix: String?, ipv6Prefix: String?, maximumPeers: Int?,
                              dnsSuffix: String? = nil) throws(HubStoreError) -> String {
        let ipv4 = try ipv4Prefix.map { text throws(HubStoreError) in
            guard let prefix = IPv4Prefix(text) else { throw HubStoreError(.invalidInput, "invalid IPv4 prefix \"\(text)\" (expected for example 100.64.0.0/10, host bits zero)") }
            return prefix
        }
        let ipv6 = try ipv6Prefix.map { text throws(HubStoreError) in
            guard let prefix = IPv6Prefix(text) else { throw HubStoreError(.invalidInput, "invalid IPv6 prefix \"\(text)\" (expected for example fd12:3456:789a::/64, host bits zero)") }
            return prefix
        }
        let settings = try database.createNetwork(name: name, ipv4Prefix: ipv4, ipv6Prefix: ipv6, maximumPeers: maximumPeers,
                                                  dnsSuffix: dnsSuffix ?? DNSNames.defaultSuffix, now: now())
        return "Created network \(settings.name): IPv4 \(settings.ipv4Prefix), IPv6 \(settings.ipv6Prefix), at most \(settings.maximumPeers) peers, names under \(settings.dnsDomain).\n"
    }

    /// `network set --dns-suffix`: peers of the network are named `<peer>.<network>.<suffix>` from their next join on.
    public func setDNSSuffix(network: String, suffix: String) throws(HubStoreError) -> String {
        try database.setDNSSuffix(network: network, suffix: suffix)
        return "Network \(network): peers are named under \(network).\(suffix) from their next connection on (agents reconnect on their own only when their session ends; restart them to apply it now).\n"
    }

    /// `network list`.
    public func listNetworks() throws(HubStoreError) -> String {
        let networks = try database.networks(now: now())
        guard !networks.isEmpty else { return "No networks. Create one with: riftgate-hub network create NAME\n" }
        var table = TextTable(header: ["NAME", "IPV4", "IPV6", "DNS DOMAIN", "PEERS", "MAX", "TOKENS", "CREATED"])
        for network in networks {
            table.rows.append([network.settings.name, "\(network.settings.ipv4Prefix)", "\(network.settings.ipv6Prefix)",
                               network.settings.dnsDomain,
                               "\(network.peerCount)", "\(network.settings.maximumPeers)", "\(network.liveTokenCount)",
                               TimeText.format(network.createdAt)])
        }
        return table.render()
    }

    /// `network delete`: removes the network with its tokens and peers; live sessions are closed.
    public func deleteNetwork(name: String) throws(HubStoreError) -> String {
        try database.deleteNetwork(name: name)
        return "Deleted network \(name) with its tokens and peers.\n"
    }

    /// `token create`: `expires` as a duration (`30d`) or nil for a token that does not expire; `tags` are given to
    /// the peers it admits (access policy); `limits` make it a per-device (`--max-keys`, `--single-use`) or an
    /// ephemeral token.
    public func createToken(network: String, label: String, expires: String?, tags: [String] = [],
                            limits: TokenLimits = .none) throws(HubStoreError) -> String {
        try HubDatabase.checkTags(Set(tags))
        let issuedAt = now()
        let expiresAt = try expires.map { text throws(HubStoreError) in
            guard let seconds = DurationText.seconds(text) else {
                throw HubStoreError(.invalidInput, "invalid expiry \"\(text)\" (expected for example 12h, 30d or a number of seconds)")
            }
            return issuedAt + seconds
        }
        let (id, token) = try database.createToken(network: network, label: label, expiresAt: expiresAt, limits: limits, now: issuedAt)
        if !tags.isEmpty { try database.setTokenTags(network: network, id: id, tags: Set(tags)) }
        let tagText = tags.isEmpty ? "" : ", tags: \(HubDatabase.tagText(Set(tags)))"
        let limitText = limits.isUnlimited ? "" : ", \(Self.limitText(limits))"
        return """
            Created token \(id) for network \(network) (label: \(label), expires: \(TimeText.format(expiresAt))\(tagText)\(limitText)).
            It is shown only this once; store it now:

            \(token.revealedText)

            """
    }

    /// `token list`: ids, labels and dates, never the token values (which are not stored).
    public func listTokens(network: String) throws(HubStoreError) -> String {
        let tokens = try database.tokens(network: network)
        guard !tokens.isEmpty else { return "No tokens in network \(network).\n" }
        var table = TextTable(header: ["ID", "LABEL", "CREATED", "EXPIRES", "LAST USED", "STATE", "KEYS", "TAGS"])
        let current = now()
        let tags = try database.tokenTags(network: network)
        let limits = try database.tokenLimits(network: network)
        for token in tokens {
            var state = token.revokedAt != nil ? "revoked" : (token.expiresAt.map { $0 <= current } == true ? "expired" : "active")
            var keys = "any"
            if let (limit, admitted) = limits[token.id] {
                if let maximum = limit.maximumKeys {
                    keys = "\(admitted)/\(maximum)"
                    if admitted >= maximum, state == "active" { state = "used up" }
                }
                if limit.ephemeral { keys += ", ephemeral" }
            }
            table.rows.append([token.id, token.label, TimeText.format(token.createdAt), TimeText.format(token.expiresAt),
                               TimeText.format(token.lastUsedAt), state, keys, tags[token.id].map(HubDatabase.tagText) ?? "-"])
        }
        return table.render()
    }

    /// How `token create` describes a limited token.
    static func limitText(_ limits: TokenLimits) -> String {
        var parts: [String] = []
        if let maximum = limits.maximumKeys { parts.append(maximum == 1 ? "single-use: admits one key" : "admits at most \(maximum) keys") }
        if limits.ephemeral { parts.append("ephemeral: its peers are removed once gone for the hub's ephemeral grace") }
        return parts.joined(separator: ", ")
    }

    /// `token revoke`.
    public func revokeToken(network: String, id: String) throws(HubStoreError) -> String {
        try database.revokeToken(network: network, id: id, now: now())
        return "Revoked token \(id) of network \(network); a running hub closes its sessions within seconds.\n"
    }

    /// `peer list`: keys, names (and whether the administrator set them), addresses and last-seen times. Whether a peer is online now is known only
    /// to the running hub (see its /metrics); last-seen is written at least once a minute while connected.
    public func listPeers(network: String) throws(HubStoreError) -> String {
        let peers = try database.peers(network: network)
        guard !peers.isEmpty else { return "No peers in network \(network) yet.\n" }
        var table = TextTable(header: ["PUBLIC KEY", "NAME", "DNS NAME", "NAMED BY", "IPV4", "IPV6", "LAST SEEN", "STATE", "TAGS"])
        let tags = (try? database.accessControl(network: network).tags) ?? [:]
        let domain = try database.networkSettings(named: network)?.dnsDomain ?? network
        for peer in peers {
            table.rows.append([peer.info.publicKey.base64, peer.info.name, peer.info.dnsName.map { "\($0).\(domain)" } ?? "-",
                               peer.nameSetByAdmin ? "admin" : "agent",
                               "\(peer.info.ipv4)", "\(peer.info.ipv6)",
                               TimeText.format(peer.lastSeenAt), peer.revokedAt == nil ? "active" : "revoked",
                               tags[peer.info.publicKey].map(HubDatabase.tagText) ?? "-"])
        }
        return table.render()
    }

    /// `peer revoke`: the key is refused from now on and its live session closed.
    public func revokePeer(network: String, publicKey: String) throws(HubStoreError) -> String {
        guard let key = try? PublicKey(base64: publicKey) else {
            throw HubStoreError(.invalidInput, "\"\(publicKey)\" is not a WireGuard public key (44 characters of base64)")
        }
        try database.revokePeer(network: network, publicKey: key, now: now())
        return "Revoked peer \(key) in network \(network); a running hub closes its session within seconds.\n"
    }
}

extension HubAdministration {
    /// Opens the database the hub with this configuration would use (`--database`, else `<state dir>/hub.db`),
    /// creating the state directory if needed.
    public init(configFile: String?, flags: [String: ConfigurationValue]) throws {
        let configuration = try ConfigurationLayers.load(configFile: configFile, flags: flags)
        if configuration.database == nil { try StateDirectory(path: configuration.stateDirectory).prepare() }
        try self.init(databasePath: configuration.databasePath)
    }
}
