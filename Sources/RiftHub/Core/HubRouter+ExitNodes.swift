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
        let directory = directory
        let applied = applyAdministratorChange("exit node", table: { try directory.storedActiveExitNodes(network: $0) },
                                               announceFrom: ProtocolVersion.v5, update: { info, active in
            let isExitNode = active.contains(info.publicKey)
            guard info.isExitNode != isExitNode else { return nil }
            info.exitNode = isExitNode ? true : nil
            return ["exit_node": "\(isExitNode)"]
        }, &actions)
        if !applied { exitNodesMarker = nil }  // left for the next tick
    }
}
