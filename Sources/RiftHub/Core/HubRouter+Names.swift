import Logging
import RiftProtocol

extension HubRouter {
    /// Applies the renames the administrator made from another process (`riftgate-hub peer rename`) to live sessions:
    /// each renamed peer that is connected gets its new name and DNS name in its session (so later welcomes list it so),
    /// and the sessions of its network that the access policy introduces it to get a `peer_joined` with them
    /// (version-appropriate, PROTOCOL.md §6.13). Called once per tick; costs nothing unless the change marker moved,
    /// and then one query for the renames made since the last one read.
    ///
    /// The renamed peer itself is told nothing: a `peer_joined` for its own key is not defined (agents ignore it), and
    /// its `welcome.self` carries the new names from its next connection on. Its agent needs its own name only to show
    /// it; the others are the ones that resolve it. In a cluster the other hubs get the peer's session again with the
    /// new names and tell their own sessions.
    mutating func refreshNames(marker: Int64, _ actions: inout [HubAction<Connection>]) {
        guard marker != namesMarker else { return }
        namesMarker = marker
        // Nobody to tell: the sessions that open later read the names from the directory when they join.
        guard !index.isEmpty else { return }
        let renames: [PeerRename]
        do {
            renames = try directory.adminRenames(after: renameRevision)
        } catch {
            // Left for the next change; the revision did not move.
            namesMarker = nil
            logger.error("cannot read renames", metadata: ["error": "\(error)"])
            return
        }
        for rename in renames {
            renameRevision = max(renameRevision, rename.revision)
            let network = rename.peer.network
            guard let connection = index[network]?[rename.peer.publicKey],
                  case .authenticated(var session)? = connections[connection]?.phase,
                  session.info.name != rename.name || session.info.dnsName != rename.dnsName else { continue }
            session.info.name = rename.name
            session.info.dnsName = rename.dnsName
            connections[connection]?.phase = .authenticated(session)
            announceJoin(session.info, in: network, except: connection, &actions)
            clusterSessionUpdated(session.info, in: network, &actions)
            logger.info("peer renamed by the administrator", metadata: [
                "network": "\(network)", "peer": "\(rename.peer.publicKey)", "name": "\(rename.name)", "dns_name": "\(rename.dnsName ?? "-")",
            ])
        }
    }
}
