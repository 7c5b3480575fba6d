import Logging
import RiftProtocol

extension HubRouter {
    /// Applies route approvals and revocations the administrator made from another process (`riftgate-hub route
    /// approve|revoke`, PROTOCOL.md §6.14) to live sessions: each connected peer whose active routes changed gets them in
    /// its session (so later welcomes list them), and the version 4 sessions of its network that the access policy
    /// introduces it to get a `peer_joined` with them; older sessions never see routes, so they are told nothing.
    /// Called once per tick; costs nothing unless the change marker moved, and then one query per network with live
    /// sessions. In a cluster the hub holding the peer tells the other hubs (`clusterSessionUpdated`).
    mutating func refreshRoutes(marker: Int64, _ actions: inout [HubAction<Connection>]) {
        guard marker != routesMarker else { return }
        routesMarker = marker
        let directory = directory
        let applied = applyAdministratorChange("routes", table: { try directory.storedActiveRoutes(network: $0) },
                                               announceFrom: ProtocolVersion.v4, update: { info, table in
            let routes = table[info.publicKey] ?? []
            guard (info.routes ?? []) != routes else { return nil }
            info.routes = routes.isEmpty ? nil : routes
            return ["routes": "\(routes.map(\.description).joined(separator: ","))"]
        }, &actions)
        if !applied { routesMarker = nil }  // left for the next tick
    }
}
