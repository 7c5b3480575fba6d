import RiftProtocol

extension HubAdministration {
    /// `route list`: every advertised or approved route of the network with its state.
    public func listRoutes(network: String) throws(HubStoreError) -> String {
        let routes = try database.routes(network: network)
        guard !routes.isEmpty else {
            return "No routes in network \(network). A peer offers one with: riftgate up --advertise-routes 192.168.1.0/24\n"
        }
        var table = TextTable(header: ["PEER", "KEY", "ROUTE", "STATE"])
        for route in routes {
            let state = route.isActive ? "approved" : route.approved ? "approved, not advertised" : "advertised"
            table.rows.append([HubDatabase.quoted(route.peer.name), HubDatabase.keyPrefix(route.peer.publicKey), route.route.description, state])
        }
        return table.render()
    }

    /// `route approve`: the peer (addressed as `peer rename` addresses it) must advertise the route; refused when it
    /// overlaps the overlay prefixes or a route approved for another peer.
    public func approveRoute(network: String, peer: String, route text: String) throws(HubStoreError) -> String {
        let route = try Self.route(text)
        let record = try resolvePeer(network: network, peer)
        let name = HubDatabase.describe(record.info)
        guard try database.approveRoute(network: network, publicKey: record.info.publicKey, route: route, now: now()) else {
            return "\(route) was already approved for peer \(name) in network \(network).\n"
        }
        return "Approved \(route) for peer \(name) in network \(network). A running hub tells the other peers within about a second; they install it if they accept routes.\n"
    }

    /// `route revoke`: withdraws an approval; the other peers drop the route within about a second.
    public func revokeRoute(network: String, peer: String, route text: String) throws(HubStoreError) -> String {
        let route = try Self.route(text)
        let record = try resolvePeer(network: network, peer)
        try database.revokeRoute(network: network, publicKey: record.info.publicKey, route: route)
        return "Revoked \(route) for peer \(HubDatabase.describe(record.info)) in network \(network). A running hub tells the other peers within about a second.\n"
    }

    static func route(_ text: String) throws(HubStoreError) -> SubnetRoute {
        guard let route = SubnetRoute(text) else {
            throw HubStoreError(.invalidInput, "invalid route \"\(text)\": expected a canonical prefix such as 192.168.1.0/24 or fd00:1::/64 (host bits zero, IPv4 /8 to /32, IPv6 /16 to /128)")
        }
        return route
    }
}
