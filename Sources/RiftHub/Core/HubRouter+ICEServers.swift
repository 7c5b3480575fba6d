import Logging
import RiftProtocol

extension HubRouter {
    /// A client that holds the network's token asked for the ICE servers instead of saying `hello` (PROTOCOL.md §6.12):
    /// answer one `ice_servers` with short-lived TURN credentials and close normally (1000).
    ///
    /// The token was checked when the connection opened (`connectionOpened`: unknown, revoked and expired tokens never
    /// get here, and a wrong one counted against the address's failure limit); the message rate limit has applied to
    /// this frame. Nothing is admitted: no peer, no address, no token key slot (an exhausted single-use or per-device
    /// token still belongs to the network, so it is answered), no `last_used`. Nobody else is told anything.
    mutating func handleICEServersRequest(_ request: ICEServersRequest, from connection: Connection,
                                          _ actions: inout [HubAction<Connection>]) {
        guard let record = connections[connection] else { return }
        guard case .awaitingHello = record.phase else {
            let refusal = ProtocolError(.alreadyAuthenticated, "this connection already joined; its ICE servers come in welcome and ice_servers")
            refuse(connection, refusal, ref: request.id, &actions)
            return
        }
        let network = record.grant.network
        let servers = configuration.ice.tokenOnlyServers(network: network, requestHost: record.requestHost, now: clock.unixSeconds())
        metrics.iceServerRequests += 1
        // The token's id (never the token) says which token asked; the credentials are not logged.
        logger.info("ice servers handed to a token holder", metadata: [
            "network": "\(network)", "token": "\(record.grant.tokenID)", "from": "\(record.remoteAddress)",
            "turn_servers": "\(servers.turn.count)",
        ])
        actions.append(.send(.iceServers(servers), to: connection))
        end(connection, announce: "disconnected", &actions)
        actions.append(.close(connection, code: HubCloseCode.normal, reason: "ice_servers"))
    }
}
