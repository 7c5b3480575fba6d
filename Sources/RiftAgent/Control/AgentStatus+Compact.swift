/// The compact `riftgate status`: a header line for this agent and one aligned line per peer.
extension AgentStatus {
    /// One line per peer (name, overlay address, state, path, handshake age, rx/tx), for people; the long form is
    /// `text` (`riftgate status --verbose`) and scripts read `--json`.
    public var compactText: String {
        var lines = ["\(name) \(ipv4 ?? "-") on \(interface), network \(network), hub \(hub.state.rawValue)"
                     + (hub.lastError.map { " (\($0))" } ?? "")]
        if let names, names.domain != nil || names.lastError != nil { lines.append(names.text) }
        if let routes {
            // Routes only when there are some (the long form always shows them); the exit node whenever configured.
            let routeLines = routes.lines.filter { !$0.hasPrefix("exit node:") }
            if !routes.advertised.isEmpty || !routes.installed.isEmpty || !routes.refused.isEmpty || routes.lastError != nil
                || routes.approved != nil {
                lines += routeLines
            }
            if let exitNode = routes.exitNode { lines.append(exitNode.line) }
        }
        if peers.isEmpty {
            lines.append("no other peers")
            return lines.joined(separator: "\n")
        }
        let header = ["PEER", "ADDRESS", "STATE", "PATH", "HANDSHAKE", "RX", "TX"]
        let rows = peers.map { peer in
            [peer.name, peer.ipv4, peer.state.description, Self.pathSummary(peer),
             peer.lastHandshakeSecondsAgo.map(Self.age) ?? "never", Self.bytes(peer.rxBytes), Self.bytes(peer.txBytes)]
        }
        let table = [header] + rows
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for row in table {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            lines.append(cells.joined(separator: "  "))
        }
        lines += peers.compactMap { peer in peer.hint.map { "\(peer.name): \($0)" } }
        return lines.joined(separator: "\n")
    }

    /// `host/direct`, `relayed/forwarded`, or `-` before a path exists.
    static func pathSummary(_ peer: Peer) -> String {
        switch (peer.pathType, peer.pathMode) {
        case (nil, nil): "-"
        case (let type?, nil): type.rawValue
        case (nil, let mode?): mode.rawValue
        case (let type?, let mode?): "\(type.rawValue)/\(mode.rawValue)"
        }
    }

    /// A handshake age the way people read it: `42s`, `3m10s`, `2h5m`, `4d`.
    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<0: "0s"
        case ..<60: "\(seconds)s"
        case ..<3600: "\(seconds / 60)m\(seconds % 60)s"
        case ..<86_400: "\(seconds / 3600)h\(seconds % 3600 / 60)m"
        default: "\(seconds / 86_400)d"
        }
    }

    /// A byte count in binary units with one decimal: `512 B`, `1.5 KiB`, `3.0 GiB`.
    static func bytes(_ count: UInt64) -> String {
        guard count >= 1024 else { return "\(count) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
