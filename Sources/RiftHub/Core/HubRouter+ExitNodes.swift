import Logging
import RiftProtocol

extension HubRouter {
    /// Applies exit-node approvals and revocations the administrator made from another process (`riftgate-hub route
    /// approve|revoke <network> <peer> exit-node`, PROTOCOL.md §6.15) to live sessions: each connected peer whose
    /// active exit-node state changed gets it in its session (so later welcomes carry it), and the version 5 sessions
    /// of its network that the access policy introduces it to get a `peer_joined` with or without `exit_node`; older
    /// sessions never see the field, so they are told nothing. Called once per tick; costs nothing unless the change
    /// marker moved, and then one query per network with live sessions. In a cluster the hub holding the peer tells
    /// the other hubs (`clusterSessionUpdated`).
    mutating func refreshExitNodes(marker: Int64, _ actions: inout [HubAction<Connection>]) {
        guard marker != exitNodesMarker else { return }
        exitNodesMarker = marker
        for network in index.keys.sorted() {
            let active: Set<PublicKey>
            do {
                guard let stored = try directory.storedActiveExitNodes(network: network) else { return }
                active = stored
            } catch {
                // Left for the next change.
                exitNodesMarker = nil
                logger.error("cannot read exit nodes", metadata: ["network": "\(network)", "error": "\(error)"])
                return
            }
            for (key, connection) in (index[network] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .authenticated(var session)? = connections[connection]?.phase else { continue }
                let isExitNode = active.contains(key)
                guard session.info.isExitNode != isExitNode else { continue }
                session.info.exitNode = isExitNode ? true : nil
                connections[connection]?.phase = .authenticated(session)
                announceJoin(session.info, in: network, except: connection, minimumVersion: ProtocolVersion.v5, &actions)
                clusterSessionUpdated(session.info, in: network, &actions)
                logger.info("peer exit node changed by the administrator", metadata: [
                    "network": "\(network)", "peer": "\(key)", "exit_node": "\(isExitNode)",
                ])
            }
        }
    }
}
