import RiftProtocol

extension HubAdministration {
    /// What `route approve|revoke` take instead of a prefix to mean the peer's exit node (PROTOCOL.md §6.15), and the
    /// route `route list` shows it as.
    public static let exitNodeRoute = "exit-node"

    /// `route list`: every advertised or approved route of the network with its state, and each exit node as the
    /// route `exit-node` (after that peer's routes) with the same states.
    public func listRoutes(network: String) throws(HubStoreError) -> String {
        let routes = try database.routes(network: network)
        let exitNodes = try database.exitNodes(network: network)
        guard !routes.isEmpty || !exitNodes.isEmpty else {
            return "No routes in network \(network). A peer offers one with: riftgate up --advertise-routes 192.168.1.0/24, or offers to be an exit node with --advertise-exit-node\n"
        }
        // Both lists are in the order of `peers(network:)`; list each peer's routes, then its exit node.
        var rows: [(peer: PeerInfo, route: String, active: Bool, approved: Bool)] = []
        for peer in try database.peers(network: network).map(\.info) {
            for route in routes where route.peer.publicKey == peer.publicKey {
                rows.append((peer, route.route.description, route.isActive, route.approved))
            }
            if let exitNode = exitNodes.first(where: { $0.peer.publicKey == peer.publicKey }) {
                rows.append((peer, Self.exitNodeRoute, exitNode.isActive, exitNode.approved))
            }
        }
        var table = TextTable(header: ["PEER", "KEY", "ROUTE", "STATE"])
        for row in rows {
            let state = row.active ? "approved" : row.approved ? "approved, not advertised" : "advertised"
            table.rows.append([HubDatabase.quoted(row.peer.name), HubDatabase.keyPrefix(row.peer.publicKey), row.route, state])
        }
        return table.render()
    }

    /// `route approve`: the peer (addressed as `peer rename` addresses it) must advertise the route; refused when it
    /// overlaps the overlay prefixes or a route approved for another peer. `exit-node` approves the peer as an exit
    /// node instead, also before it advertises one.
    public func approveRoute(network: String, peer: String, route text: String) throws(HubStoreError) -> String {
        if text == Self.exitNodeRoute { return try approveExitNode(network: network, peer: peer) }
        let route = try Self.route(text, command: "approve")
        let record = try resolvePeer(network: network, peer)
        let name = HubDatabase.describe(record.info)
        guard try database.approveRoute(network: network, publicKey: record.info.publicKey, route: route, now: now()) else {
            return "\(route) was already approved for peer \(name) in network \(network).\n"
        }
        return "Approved \(route) for peer \(name) in network \(network). A running hub tells the other peers within about a second; they install it if they accept routes.\n"
    }

    /// `route revoke`: withdraws an approval (`exit-node`: the peer's exit-node approval); the other peers drop the
    /// route within about a second.
    public func revokeRoute(network: String, peer: String, route text: String) throws(HubStoreError) -> String {
        if text == Self.exitNodeRoute { return try revokeExitNode(network: network, peer: peer) }
        let route = try Self.route(text, command: "revoke")
        let record = try resolvePeer(network: network, peer)
        try database.revokeRoute(network: network, publicKey: record.info.publicKey, route: route)
        return "Revoked \(route) for peer \(HubDatabase.describe(record.info)) in network \(network). A running hub tells the other peers within about a second.\n"
    }

    /// A route given to `route approve|revoke`; a default route gets a pointer to `exit-node`.
    static func route(_ text: String, command: String) throws(HubStoreError) -> SubnetRoute {
        if let slash = text.lastIndex(of: "/"), text[text.index(after: slash)...] == "0",
           IPv4Address(String(text[..<slash])) != nil || IPv6Address(String(text[..<slash])) != nil {
            throw HubStoreError(.invalidInput, "\(text) is a default route, which is not a subnet route: to let a peer forward all traffic, approve it as an exit node: riftgate-hub route \(command) <network> <peer> \(exitNodeRoute)")
        }
        guard let route = SubnetRoute(text) else {
            throw HubStoreError(.invalidInput, "invalid route \"\(text)\": expected a canonical prefix such as 192.168.1.0/24 or fd00:1::/64 (host bits zero, IPv4 /8 to /32, IPv6 /16 to /128), or \(exitNodeRoute)")
        }
        return route
    }
}
