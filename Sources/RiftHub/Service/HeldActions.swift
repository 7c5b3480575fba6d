import RiftProtocol

/// The router's actions held back until the writes they depend on are committed.
///
/// The hub commits the writes of one service-loop pass together (`HubDirectory.commitPendingWrites`). Once a pass has
/// written something (a join allocating addresses), everything the router asks for afterwards in that pass waits
/// here, in order, and is performed after the commit: nobody is told about an address assignment before it is
/// durable, and nothing sent later in the pass overtakes what was held.
struct HeldActions<Connection: Hashable & Sendable> {
    private var actions: [HubAction<Connection>] = []

    /// Whether nothing is held.
    var isEmpty: Bool { actions.isEmpty }

    /// Holds `more` after what is already held.
    mutating func hold(_ more: [HubAction<Connection>]) {
        actions.append(contentsOf: more)
    }

    /// Everything held, in order, for after a successful commit; empties the holder.
    mutating func takeAfterCommit() -> [HubAction<Connection>] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// What to do when the commit failed: a connection welcomed in this pass was promised addresses that were not
    /// stored, so it hears nothing more but `internal_error` and is closed (its departure is then announced as for any
    /// close). Everything else is performed in order. Empties the holder.
    mutating func takeAfterFailedCommit() -> [HubAction<Connection>] {
        defer { actions.removeAll(keepingCapacity: true) }
        var unstored: Set<Connection> = []
        for case .send(.welcome, let connection) in actions { unstored.insert(connection) }
        var result: [HubAction<Connection>] = []
        result.reserveCapacity(actions.count + 2 * unstored.count)
        var closed: Set<Connection> = []
        for action in actions {
            switch action {
            case .send(_, let connection) where unstored.contains(connection):
                continue
            case .close(let connection, _, _) where unstored.contains(connection):
                continue
            default:
                result.append(action)
            }
        }
        for action in actions {
            guard case .send(.welcome, let connection) = action, closed.insert(connection).inserted else { continue }
            result.append(.send(.error(ErrorFrame(ProtocolError(.internalError, "the hub could not store this join; retry later"))),
                                to: connection))
            result.append(.close(connection, code: HubCloseCode.internalError, reason: "internal_error"))
        }
        return result
    }
}
