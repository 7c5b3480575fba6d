import Logging

extension HubRouter {
    /// The transport closed a connection as soon as it accepted it (`RefusedConnectionLog.Kind`): counted on
    /// /metrics by reason, and logged without a line per connection.
    mutating func connectionRefused(_ kind: RefusedConnectionLog.Kind, address: String?) {
        metrics.connectionsRefused[kind.rawValue, default: 0] += 1
        if let line = refusedConnections.record(kind, address: address, now: clock.monotonicSeconds()) { log(line) }
    }

    /// Logs the refusals counted since their last line, once their interval passed; called from `tick`.
    mutating func reportRefusedConnections(now: Double) {
        for line in refusedConnections.dueLines(now: now) { log(line) }
    }

    private func log(_ line: RefusedConnectionLog.Line) {
        var metadata: Logger.Metadata = ["refused": "\(line.refused)"]
        if let address = line.lastAddress { metadata["from"] = "\(address)" }
        switch line.kind {
        case .capacity:
            logger.warning(
                "connections refused: the hub holds as many as its open-file limit allows (raise LimitNOFILE); counted on /metrics, logged at most once a minute",
                metadata: metadata)
        case .pendingPerAddress:
            logger.warning(
                "connections refused: one address holds too many connections that have not finished their WebSocket upgrade; counted on /metrics, logged at most once a minute",
                metadata: metadata)
        }
    }
}
