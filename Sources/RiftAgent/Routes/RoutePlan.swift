import RiftProtocol

/// A network directly attached to this machine (an address with its netmask on one of its other interfaces).
public struct LocalNetwork: Sendable, Hashable {
    /// The network prefix (host bits cleared).
    public var prefix: SubnetRoute
    /// The interface it is on, e.g. `eth0`.
    public var interface: String

    /// A network `prefix` on `interface`.
    public init(_ prefix: SubnetRoute, on interface: String) {
        self.prefix = prefix
        self.interface = interface
    }
}

/// Which of the peers' approved subnet routes this agent installs, and which it refuses and why.
///
/// A pure value: the overlay prefixes from the welcome, this machine's own networks, `accept_routes`, the routes it
/// advertises itself and each peer's approved routes in; per peer the extra WireGuard allowed IPs, the kernel routes
/// for the WireGuard interface and the refusals out. A route is refused when it overlaps the overlay, one of this
/// machine's networks (never route your own LAN into the tunnel), a route this machine advertises, or a route of
/// another peer: peers are taken in public-key order and the first to claim an address keeps it. Without
/// `accept_routes` nothing is installed and nothing is refused.
public struct RoutePlan: Sendable, Equatable {
    /// A route that is not installed.
    public struct Refusal: Sendable, Hashable {
        /// The peer that offered it.
        public var peer: PublicKey
        /// The route.
        public var route: SubnetRoute
        /// Why, e.g. `overlaps this machine's LAN 192.168.1.0/24 on eth0`.
        public var reason: String
    }

    /// The routes installed, per peer (sorted); these are added to the peer's WireGuard allowed IPs.
    public private(set) var accepted: [PublicKey: [SubnetRoute]] = [:]
    /// The routes refused, in peer-key then route order.
    public private(set) var refusals: [Refusal] = []

    /// Nothing installed.
    public init() {}

    /// Plans the routes. `peerRoutes`: each peer's approved routes.
    public init(overlayIPv4: IPv4Prefix, overlayIPv6: IPv6Prefix, localNetworks: [LocalNetwork], advertised: [SubnetRoute],
                acceptRoutes: Bool, peerRoutes: [PublicKey: [SubnetRoute]]) {
        guard acceptRoutes else { return }
        let overlays = [SubnetRoute.ipv4(overlayIPv4), .ipv6(overlayIPv6)]
        var taken: [(route: SubnetRoute, peer: PublicKey)] = []
        for (peer, routes) in peerRoutes.sorted(by: { $0.key < $1.key }) {
            for route in Set(routes).sorted() {
                if let reason = Self.refusal(of: route, from: peer, overlays: overlays, localNetworks: localNetworks,
                                             advertised: advertised, taken: taken) {
                    refusals.append(Refusal(peer: peer, route: route, reason: reason))
                    continue
                }
                accepted[peer, default: []].append(route)
                taken.append((route, peer))
            }
        }
    }

    private static func refusal(of route: SubnetRoute, from peer: PublicKey, overlays: [SubnetRoute], localNetworks: [LocalNetwork],
                                advertised: [SubnetRoute], taken: [(route: SubnetRoute, peer: PublicKey)]) -> String? {
        if let overlay = overlays.first(where: route.overlaps) {
            return route.covers(overlay) ? "covers the overlay \(overlay)" : "lies inside the overlay \(overlay)"
        }
        if let local = localNetworks.sorted(by: { ($0.prefix, $0.interface) < ($1.prefix, $1.interface) })
            .first(where: { route.overlaps($0.prefix) }) {
            return "overlaps this machine's LAN \(local.prefix) on \(local.interface)"
        }
        if let own = advertised.sorted().first(where: route.overlaps) {
            return "overlaps \(own), which this machine advertises"
        }
        if let other = taken.first(where: { $0.peer != peer && route.overlaps($0.route) }) {
            return "overlaps \(other.route) of peer \(other.peer), accepted first (lower public key)"
        }
        return nil
    }

    /// The kernel routes to add on the WireGuard interface: every accepted route, sorted.
    public var kernelRoutes: [SubnetRoute] { accepted.values.flatMap { $0 }.sorted() }

    /// The extra WireGuard allowed IPs for `peer` (empty for a peer without accepted routes).
    public func allowedIPs(for peer: PublicKey) -> [String] { (accepted[peer] ?? []).map(\.description) }
}
