public import RiftProtocol

/// Subnet route storage (PROTOCOL.md §6.14). Directories that do not conform store no routes: every peer then has
/// none active, whatever it advertises.
public protocol HubRouteDirectory {
    /// Replaces the routes `publicKey` advertises in `network` with `routes` (a write only when they changed) and
    /// returns its active routes: advertised and approved by an administrator.
    func advertiseRoutes(network: String, publicKey: PublicKey, routes: [SubnetRoute]) throws(DirectoryError) -> [SubnetRoute]

    /// The active routes of the peers of `network`, by peer; peers without any may be absent.
    func activeRoutes(network: String) throws(DirectoryError) -> [PublicKey: [SubnetRoute]]
}

extension HubDirectory {
    /// Records a joining peer's advertisement and returns its active routes; none when this directory stores no routes.
    func joiningPeerRoutes(network: String, publicKey: PublicKey, advertised: [SubnetRoute]) throws(DirectoryError) -> [SubnetRoute] {
        guard let routes = self as? any HubRouteDirectory else { return [] }
        return try routes.advertiseRoutes(network: network, publicKey: publicKey, routes: advertised)
    }

    /// The active routes of `network`'s peers; nil when this directory stores no routes.
    func storedActiveRoutes(network: String) throws(DirectoryError) -> [PublicKey: [SubnetRoute]]? {
        guard let routes = self as? any HubRouteDirectory else { return nil }
        return try routes.activeRoutes(network: network)
    }
}
