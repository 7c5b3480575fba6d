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
        for network in index.keys.sorted() {
            let table: [PublicKey: [SubnetRoute]]
            do {
                guard let stored = try directory.storedActiveRoutes(network: network) else { return }
                table = stored
            } catch {
                // Left for the next change.
                routesMarker = nil
                logger.error("cannot read routes", metadata: ["network": "\(network)", "error": "\(error)"])
                return
            }
            for (key, connection) in (index[network] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .authenticated(var session)? = connections[connection]?.phase else { continue }
                let routes = table[key] ?? []
                guard (session.info.routes ?? []) != routes else { continue }
                session.info.routes = routes.isEmpty ? nil : routes
                connections[connection]?.phase = .authenticated(session)
                announceJoin(session.info, in: network, except: connection, minimumVersion: ProtocolVersion.v4, &actions)
                clusterSessionUpdated(session.info, in: network, &actions)
                logger.info("peer routes changed by the administrator", metadata: [
                    "network": "\(network)", "peer": "\(key)", "routes": "\(routes.map(\.description).joined(separator: ","))",
                ])
            }
        }
    }
}
