import RiftTURN
import RiftSupport

/// What the TURN check has seen per server, rendered into the hub's /metrics.
struct TURNCheckMetrics: Sendable, Equatable {
    /// The servers checked, in configuration order.
    var servers: [TURNServerAddress]
    /// The latest result per server; absent until its first check finished.
    var latest: [TURNServerAddress: TURNCheckResult] = [:]
    /// Checks finished, per server and result.
    var counts: [TURNServerAddress: [TURNCheckResult: UInt64]] = [:]

    mutating func record(_ result: TURNCheckResult, for server: TURNServerAddress) {
        latest[server] = result
        counts[server, default: [:]][result, default: 0] += 1
    }

    /// The Prometheus text: `riftgate_hub_turn_check_ok` once a server has been checked, and every result counter
    /// from the start (zero until it happens). Empty when no server is checked.
    func prometheusText() -> String {
        guard !servers.isEmpty else { return "" }
        var out = "# HELP riftgate_hub_turn_check_ok Whether the latest TURN allocation with the hub's credentials succeeded.\n"
        out += "# TYPE riftgate_hub_turn_check_ok gauge\n"
        for server in servers {
            guard let result = latest[server] else { continue }
            out += "riftgate_hub_turn_check_ok{server=\"\(PrometheusText.escapeLabelValue("\(server)"))\"} \(result == .ok ? 1 : 0)\n"
        }
        out += "# HELP riftgate_hub_turn_checks_total TURN allocation checks by server and result.\n"
        out += "# TYPE riftgate_hub_turn_checks_total counter\n"
        for server in servers {
            for result in TURNCheckResult.allCases {
                out += "riftgate_hub_turn_checks_total{server=\"\(PrometheusText.escapeLabelValue("\(server)"))\",result=\"\(result.rawValue)\"} \(counts[server]?[result] ?? 0)\n"
            }
        }
        return out
    }
}
