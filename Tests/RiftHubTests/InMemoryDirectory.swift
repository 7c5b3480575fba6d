import RiftCrypto
import RiftHub
import RiftProtocol

/// A `HubDirectory` in memory, for testing the routing core without SQLite. `revoke…` and `delete…`
/// bump the change marker the way another process writing the database would.
final class InMemoryDirectory: HubDirectory {
    struct Token { var id: String; var network: String; var hash: TokenHash; var revoked = false; var expiresAt: Int64? }
    struct Peer { var info: PeerInfo; var offset: UInt64; var revoked = false; var lastSeen: Int64; var renamedByAdmin: Int64?; var tokenID: String? }

    var networks: [String: NetworkSettings] = [:]
    var tokens: [Token] = []
    var peers: [String: [PublicKey: Peer]] = [:]
    var marker: Int64 = 0
    var failing = false
    var lastUsed: [String: Int64] = [:]
    /// Access policy texts by network, tags by token id and by network and peer (HubAccessDirectory).
    var policies: [String: String] = [:]
    var tokenTags: [String: Set<String>] = [:]
    var peerTags: [String: [PublicKey: Set<String>]] = [:]
    var tokenLimits: [String: TokenLimits] = [:]
    var tokenKeys: [String: Set<PublicKey>] = [:]
    var ephemeralPeers: [String: Set<PublicKey>] = [:]
    /// The last admin rename's revision (hub-wide).
    var renameRevision: Int64 = 0
    /// How often `adminRenames` was asked.
    var renameQueries = 0
    /// Subnet routes (HubRouteDirectory).
    let routeStore = InMemoryRoutes()
    /// Exit nodes (HubExitNodeDirectory): advertised at the last hello, and approved, by network.
    var exitNodesAdvertised: [String: Set<PublicKey>] = [:]
    var exitNodesApproved: [String: Set<PublicKey>] = [:]
    /// How many times an exit-node advertisement was written (only when it changed).
    var exitNodeWrites = 0

    /// Sets or removes a network's policy, as `riftgate-hub policy set` would from another process.
    func setPolicy(_ text: String?, in network: String) {
        policies[network] = text
        marker += 1
    }

    /// Replaces a peer's tags, as `riftgate-hub peer tag` would.
    func tag(_ key: PublicKey, in network: String, _ tags: Set<String>) {
        peerTags[network, default: [:]][key] = tags
        marker += 1
    }

    /// Gives a peer a name (and label: derived and numbered when nil) that sticks, as `riftgate-hub peer rename` would.
    func rename(_ key: PublicKey, in network: String, to name: String, dnsName: String? = nil) {
        guard var peer = peers[network]?[key] else { return }
        renameRevision += 1
        peer.info.name = name
        peer.info.dnsName = dnsName ?? freeLabel(for: name, in: network, except: key)
        peer.renamedByAdmin = renameRevision
        peers[network]?[key] = peer
        marker += 1
    }

    @discardableResult
    func addNetwork(_ name: String, maximumPeers: Int = 100, ipv4: String = "100.64.0.0/10", ipv6: String = "fd00:1:2::/64") -> NetworkSettings {
        let settings = NetworkSettings(name: name, ipv4Prefix: IPv4Prefix(ipv4)!, ipv6Prefix: IPv6Prefix(ipv6)!, maximumPeers: maximumPeers)
        networks[name] = settings
        marker += 1
        return settings
    }

    /// Creates a token and returns its text.
    func addToken(network: String, id: String? = nil, expiresAt: Int64? = nil, tags: Set<String> = []) -> String {
        let token = BearerToken.generate()
        let tokenID = id ?? "tok\(tokens.count)"
        tokens.append(Token(id: tokenID, network: network, hash: token.hash, expiresAt: expiresAt))
        if !tags.isEmpty { tokenTags[tokenID] = tags }
        return token.revealedText
    }

    func revokeToken(_ id: String) {
        for index in tokens.indices where tokens[index].id == id { tokens[index].revoked = true }
        marker += 1
    }

    func revokePeer(_ key: PublicKey, in network: String) {
        peers[network]?[key]?.revoked = true
        marker += 1
    }

    func deleteNetwork(_ name: String) {
        networks[name] = nil
        tokens.removeAll { $0.network == name }
        peers[name] = nil
        marker += 1
    }

    fileprivate func check() throws(DirectoryError) {
        if failing { throw DirectoryError(reason: "simulated storage failure") }
    }

    func network(named name: String) throws(DirectoryError) -> NetworkSettings? {
        try check()
        return networks[name]
    }

    func liveToken(hash: TokenHash, now: Int64) throws(DirectoryError) -> TokenGrant? {
        try check()
        guard let token = tokens.first(where: { $0.hash == hash && !$0.revoked && ($0.expiresAt.map { $0 > now } ?? true) }) else { return nil }
        return TokenGrant(id: token.id, network: token.network)
    }

    func admitPeer(publicKey: PublicKey, name: String, network: NetworkSettings, tokenID: String, now: Int64) throws(DirectoryError) -> PeerAdmission {
        try check()
        let limits = tokenLimits[tokenID] ?? .none
        if let maximum = limits.maximumKeys, !(tokenKeys[tokenID]?.contains(publicKey) ?? false) {
            guard (tokenKeys[tokenID]?.count ?? 0) < maximum else { return .tokenExhausted(maximumKeys: maximum) }
            tokenKeys[tokenID, default: []].insert(publicKey)
        }
        lastUsed[tokenID] = now
        if var peer = peers[network.name]?[publicKey] {
            guard !peer.revoked else { return .revoked }
            // An admin-set name sticks (what the database does).
            if peer.renamedByAdmin == nil, peer.info.name != name {
                peer.info.dnsName = freeLabel(for: name, in: network.name, except: publicKey)
                peer.info.name = name
            }
            peer.lastSeen = now
            peer.tokenID = tokenID
            peers[network.name]?[publicKey] = peer
            return .admitted(peer.info)
        }
        let existing = peers[network.name] ?? [:]
        guard existing.values.filter({ !$0.revoked }).count < network.maximumPeers else { return .networkFull }
        let offset = (existing.values.map(\.offset).max() ?? 0) + 1
        guard let (ipv4, ipv6) = OverlayAddressing.addresses(offset: offset, ipv4Prefix: network.ipv4Prefix, ipv6Prefix: network.ipv6Prefix) else {
            return .networkFull
        }
        let info = PeerInfo(publicKey: publicKey, name: name, ipv4: ipv4, ipv6: ipv6,
                            dnsName: freeLabel(for: name, in: network.name, except: publicKey))
        peers[network.name, default: [:]][publicKey] = Peer(info: info, offset: offset, lastSeen: now, tokenID: tokenID)
        if limits.ephemeral { ephemeralPeers[network.name, default: []].insert(publicKey) }
        return .admitted(info)
    }

    /// The first of the name's DNS label candidates no other peer of the network holds (what the database does).
    private func freeLabel(for name: String, in network: String, except key: PublicKey) -> String {
        let taken = Set((peers[network] ?? [:]).values.filter { $0.info.publicKey != key }.compactMap(\.info.dnsName))
        let base = DNSNames.label(derivedFrom: name)
        return (1...).lazy.map { DNSNames.candidate(base, $0) }.first { !taken.contains($0) }!
    }

    func peersLastConnected(window: Int64) throws(DirectoryError) -> [LastConnectedPeer] {
        try check()
        let all = peers.flatMap { network, keys in
            keys.map { (LastConnectedPeer(address: PeerAddress(network: network, publicKey: $0.key), tokenID: $0.value.tokenID), $0.value.lastSeen) }
        }
        guard let latest = all.map(\.1).max() else { return [] }
        return all.filter { $0.1 >= latest - window }.map(\.0)
    }

    func recordLastSeen(_ seen: [PeerAddress], now: Int64) throws(DirectoryError) {
        try check()
        for peer in seen { peers[peer.network]?[peer.publicKey]?.lastSeen = now }
    }

    func changeMarker() throws(DirectoryError) -> Int64 {
        try check()
        return marker
    }

    func withdrawnGrants(_ grants: Set<SessionGrant>, now: Int64) throws(DirectoryError) -> [SessionGrant: GrantWithdrawal] {
        try check()
        var result: [SessionGrant: GrantWithdrawal] = [:]
        for grant in grants {
            if networks[grant.network] == nil {
                result[grant] = .networkDeleted
            } else if let key = grant.publicKey, peers[grant.network]?[key]?.revoked == true {
                result[grant] = .peerRevoked
            } else if grant.tokenID != SessionGrant.unknownToken, !tokens.contains(where: { $0.id == grant.tokenID && $0.network == grant.network && !$0.revoked && ($0.expiresAt.map { $0 > now } ?? true) }) {
                result[grant] = .tokenRevoked
            }
        }
        return result
    }

    func adminRenames(after revision: Int64) throws(DirectoryError) -> [PeerRename] {
        try check()
        renameQueries += 1
        return peers.flatMap { network, byKey in
            byKey.values.compactMap { peer -> PeerRename? in
                guard let renamed = peer.renamedByAdmin, renamed > revision, !peer.revoked else { return nil }
                return PeerRename(peer: PeerAddress(network: network, publicKey: peer.info.publicKey), name: peer.info.name,
                                  dnsName: peer.info.dnsName, revision: renamed)
            }
        }.sorted { $0.revision < $1.revision }
    }

    func networkCount() throws(DirectoryError) -> Int {
        try check()
        return networks.count
    }

    func removeStaleEphemeralPeers(lastSeenBefore cutoff: Int64,
                                   unlessConnected isConnected: (PeerAddress) -> Bool) throws(DirectoryError) -> [PeerAddress] {
        try check()
        var removed: [PeerAddress] = []
        for (network, keys) in ephemeralPeers {
            for key in keys {
                guard let peer = peers[network]?[key], !peer.revoked, peer.lastSeen < cutoff,
                      !isConnected(PeerAddress(network: network, publicKey: key)) else { continue }
                peers[network]?[key] = nil
                ephemeralPeers[network]?.remove(key)
                removed.append(PeerAddress(network: network, publicKey: key))
            }
        }
        return removed
    }
}

extension InMemoryDirectory: HubAccessDirectory {
    func accessControl(network: String) throws(DirectoryError) -> StoredAccessControl {
        try check()
        return StoredAccessControl(policyText: policies[network], tags: peerTags[network] ?? [:])
    }

    func peerTags(network: String, publicKey: PublicKey, tokenID: String) throws(DirectoryError) -> Set<String> {
        try check()
        if let tags = peerTags[network]?[publicKey] { return tags }
        guard let tags = tokenTags[tokenID] else { return [] }
        peerTags[network, default: [:]][publicKey] = tags
        return tags
    }
}

/// A clock the test moves by hand.
final class ManualClock: HubClock {
    var unix: Int64 = 1_700_000_000
    var monotonic: Double = 1000

    func unixSeconds() -> Int64 { unix }
    func monotonicSeconds() -> Double { monotonic }

    func advance(_ seconds: Double) {
        monotonic += seconds
        unix += Int64(seconds.rounded(.down))
    }
}

/// Subnet routes in memory: what each peer advertised at its last hello and what the "administrator" approved.
final class InMemoryRoutes {
    var advertised: [String: [PublicKey: [SubnetRoute]]] = [:]
    var approved: [String: [PublicKey: Set<SubnetRoute>]] = [:]
    /// How many times an advertisement was written (only when it changed).
    var writes = 0
}

extension InMemoryDirectory: HubRouteDirectory {
    func advertiseRoutes(network: String, publicKey: PublicKey, routes: [SubnetRoute]) throws(DirectoryError) -> [SubnetRoute] {
        try check()
        if Set(routeStore.advertised[network]?[publicKey] ?? []) != Set(routes) {
            routeStore.advertised[network, default: [:]][publicKey] = routes
            routeStore.writes += 1
        }
        return try activeRoutes(network: network)[publicKey] ?? []
    }

    func activeRoutes(network: String) throws(DirectoryError) -> [PublicKey: [SubnetRoute]] {
        try check()
        var result: [PublicKey: [SubnetRoute]] = [:]
        for (key, routes) in routeStore.advertised[network] ?? [:] where peers[network]?[key]?.revoked == false {
            let active = routes.filter { routeStore.approved[network]?[key]?.contains($0) ?? false }.sorted()
            if !active.isEmpty { result[key] = active }
        }
        return result
    }

    /// Approves a route, as `riftgate-hub route approve` would from another process.
    func approveRoute(_ route: String, for key: PublicKey, in network: String) {
        routeStore.approved[network, default: [:]][key, default: []].insert(SubnetRoute(route)!)
        marker += 1
    }

    /// Withdraws an approval, as `riftgate-hub route revoke` would.
    func revokeRoute(_ route: String, for key: PublicKey, in network: String) {
        routeStore.approved[network]?[key]?.remove(SubnetRoute(route)!)
        marker += 1
    }
}

extension InMemoryDirectory: HubExitNodeDirectory {
    func advertiseExitNode(network: String, publicKey: PublicKey, advertised: Bool) throws(DirectoryError) -> Bool {
        try check()
        if exitNodesAdvertised[network, default: []].contains(publicKey) != advertised {
            if advertised { exitNodesAdvertised[network, default: []].insert(publicKey) } else { exitNodesAdvertised[network]?.remove(publicKey) }
            exitNodeWrites += 1
        }
        return try activeExitNodes(network: network).contains(publicKey)
    }

    func activeExitNodes(network: String) throws(DirectoryError) -> Set<PublicKey> {
        try check()
        return (exitNodesAdvertised[network] ?? []).intersection(exitNodesApproved[network] ?? []).filter { peers[network]?[$0]?.revoked == false }
    }

    /// Approves a peer as an exit node, as `riftgate-hub route approve <network> <peer> exit-node` would.
    func approveExitNode(_ key: PublicKey, in network: String) {
        exitNodesApproved[network, default: []].insert(key)
        marker += 1
    }

    /// Withdraws an exit-node approval, as `riftgate-hub route revoke <network> <peer> exit-node` would.
    func revokeExitNode(_ key: PublicKey, in network: String) {
        exitNodesApproved[network]?.remove(key)
        marker += 1
    }
}
