public import RiftProtocol
import RiftStore

/// One route of a peer as `riftgate-hub route list` shows it.
public struct PeerRoute: Sendable, Hashable {
    /// The peer.
    public var peer: PeerInfo
    /// The route.
    public var route: SubnetRoute
    /// Whether the peer advertised it at its last hello.
    public var advertised: Bool
    /// Whether an administrator approved it.
    public var approved: Bool

    /// A route is active (sent to other peers) when it is both advertised and approved.
    public var isActive: Bool { advertised && approved }
}

extension HubDatabase {
    /// Replaces the routes `publicKey` advertises in `network` with `routes` (a write only when they changed) and
    /// returns its active routes (advertised and approved), in `SubnetRoute` order.
    func replaceAdvertisedRoutes(network: String, publicKey: PublicKey, routes: [SubnetRoute]) throws(HubStoreError) -> [SubnetRoute] {
        let networkName = SQLiteValue.text(network), key = SQLiteValue.text(publicKey.base64)
        let wanted = Set(routes.map(\.description))
        let stored = try read { () throws(SQLiteError) in
            Set(try database.query("SELECT prefix FROM advertised_routes WHERE network = ? AND public_key = ?", [networkName, key])
                .map { row throws(SQLiteError) in try row.requiredText(0) })
        }
        if stored != wanted {
            try write {
                _ = try database.run("DELETE FROM advertised_routes WHERE network = ? AND public_key = ?", [networkName, key])
                for prefix in wanted.sorted() {
                    _ = try database.run("INSERT INTO advertised_routes (network, public_key, prefix) VALUES (?, ?, ?)", [networkName, key, .text(prefix)])
                }
            }
        }
        return try activeRouteTable(network: network)[publicKey] ?? []
    }

    /// The active routes of the peers of `network` that are not revoked, by peer, each list in `SubnetRoute` order.
    /// One indexed query.
    func activeRouteTable(network: String) throws(HubStoreError) -> [PublicKey: [SubnetRoute]] {
        try read { () throws(SQLiteError) in
            var result: [PublicKey: [SubnetRoute]] = [:]
            for row in try database.query("""
                SELECT a.public_key, a.prefix FROM approved_routes a
                JOIN advertised_routes d ON d.network = a.network AND d.public_key = a.public_key AND d.prefix = a.prefix
                JOIN peers p ON p.network = a.network AND p.public_key = a.public_key
                WHERE a.network = ? AND p.revoked_at IS NULL
                """, [.text(network)]) {
                guard let key = try? PublicKey(base64: try row.requiredText(0)), let route = SubnetRoute(try row.requiredText(1)) else { continue }
                result[key, default: []].append(route)
            }
            return result.mapValues { $0.sorted() }
        }
    }

    /// Every advertised or approved route of `network`, by peer (in address order) then route. Fails with
    /// `unknownNetwork`.
    public func routes(network: String) throws(HubStoreError) -> [PeerRoute] {
        let peers = try self.peers(network: network)
        let (advertised, approved) = try read { () throws(SQLiteError) -> ([String: Set<String>], [String: Set<String>]) in
            var advertised: [String: Set<String>] = [:], approved: [String: Set<String>] = [:]
            for row in try database.query("SELECT public_key, prefix FROM advertised_routes WHERE network = ?", [.text(network)]) {
                advertised[try row.requiredText(0), default: []].insert(try row.requiredText(1))
            }
            for row in try database.query("SELECT public_key, prefix FROM approved_routes WHERE network = ?", [.text(network)]) {
                approved[try row.requiredText(0), default: []].insert(try row.requiredText(1))
            }
            return (advertised, approved)
        }
        var result: [PeerRoute] = []
        for peer in peers {
            let key = peer.info.publicKey.base64
            let texts = (advertised[key] ?? []).union(approved[key] ?? [])
            for route in texts.compactMap(SubnetRoute.init).sorted() {
                result.append(PeerRoute(peer: peer.info, route: route, advertised: advertised[key]?.contains(route.description) ?? false,
                                        approved: approved[key]?.contains(route.description) ?? false))
            }
        }
        return result
    }

    /// Approves `route` for `publicKey` in `network`. Refused (`invalidInput`) when the peer is revoked, does not
    /// advertise it, or the route overlaps the network's overlay prefixes or a route approved for another peer.
    /// Returns false when it was approved already. A running hub tells the other peers within about a second.
    public func approveRoute(network: String, publicKey: PublicKey, route: SubnetRoute, now: Int64) throws(HubStoreError) -> Bool {
        guard let settings = try networkSettings(named: network) else { throw HubStoreError(.unknownNetwork, "no network \"\(network)\"") }
        for overlay in [SubnetRoute.ipv4(settings.ipv4Prefix), .ipv6(settings.ipv6Prefix)] where route.overlaps(overlay) {
            throw HubStoreError(.invalidInput, "\(route) overlaps the overlay prefix \(overlay) of network \"\(network)\"; a route must lie outside it")
        }
        let existing = try routes(network: network)
        let peers = try self.peers(network: network)
        guard let peer = peers.first(where: { $0.info.publicKey == publicKey }) else {
            throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
        }
        guard peer.revokedAt == nil else {
            throw HubStoreError(.invalidInput, "peer \(Self.describe(peer.info)) of network \"\(network)\" is revoked; its routes cannot be approved")
        }
        if let clash = existing.first(where: { $0.approved && $0.peer.publicKey != publicKey && $0.route.overlaps(route) }) {
            throw HubStoreError(.invalidInput, "\(route) overlaps \(clash.route) approved for \(clash.peer.name); revoke that first")
        }
        let own = existing.first { $0.peer.publicKey == publicKey && $0.route == route }
        if own?.approved == true { return false }
        guard own?.advertised == true else {
            throw HubStoreError(.invalidInput, "peer \(Self.describe(peer.info)) does not advertise \(route); it must offer it first (riftgate up --advertise-routes \(route))")
        }
        try write {
            _ = try database.run("INSERT INTO approved_routes (network, public_key, prefix, approved_at) VALUES (?, ?, ?, ?)",
                             [.text(network), .text(publicKey.base64), .text(route.description), .integer(now)])
        }
        return true
    }

    /// Withdraws the approval of `route` for `publicKey`; fails with `invalidInput` when it was not approved.
    public func revokeRoute(network: String, publicKey: PublicKey, route: SubnetRoute) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            let removed = try database.run("DELETE FROM approved_routes WHERE network = ? AND public_key = ? AND prefix = ?",
                                           [.text(network), .text(publicKey.base64), .text(route.description)])
            guard removed > 0 else {
                throw HubStoreError(.invalidInput, "\(route) is not approved for peer \(publicKey) in network \"\(network)\"")
            }
        }
    }
}
