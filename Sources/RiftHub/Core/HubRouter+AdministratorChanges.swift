import Logging
import RiftProtocol

extension HubRouter {
    /// Applies one kind of administrator change made from another process (routes, exit nodes) to the live sessions:
    /// for every network with live sessions, reads the stored `table` once and lets `update` change each connected
    /// peer's `PeerInfo`; a peer whose info changed is announced again (`peer_joined`) to the sessions of
    /// `minimumVersion` or later that the access policy introduces it to (older sessions do not know the field), is
    /// told to the other hubs of a cluster, and is logged with the metadata `update` returns. Returns false when a
    /// table could not be read (logged; the caller retries at the next tick). A nil table ends the pass.
    mutating func applyAdministratorChange<Table>(
        _ what: String,
        table read: (String) throws -> Table?,
        announceFrom minimumVersion: Int64,
        update: (inout PeerInfo, Table) -> Logger.Metadata?,
        _ actions: inout [HubAction<Connection>]
    ) -> Bool {
        for network in index.keys.sorted() {
            let table: Table
            do {
                guard let stored = try read(network) else { return true }
                table = stored
            } catch {
                logger.error("cannot read \(what)", metadata: ["network": "\(network)", "error": "\(error)"])
                return false
            }
            for (key, connection) in (index[network] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .authenticated(var session)? = connections[connection]?.phase,
                      let changed = update(&session.info, table) else { continue }
                connections[connection]?.phase = .authenticated(session)
                announceJoin(session.info, in: network, except: connection, minimumVersion: minimumVersion, &actions)
                clusterSessionUpdated(session.info, in: network, &actions)
                logger.info("peer \(what) changed by the administrator",
                            metadata: ["network": "\(network)", "peer": "\(key)"].merging(changed) { $1 })
            }
        }
        return true
    }
}
