public import RiftProtocol
import RiftSupport

/// The hub's counters and gauges, updated by the routing core and rendered by `prometheusText()`.
public struct HubMetrics: Sendable, Hashable {
    /// WebSocket connections accepted since start.
    public var connectionsTotal: UInt64 = 0
    /// Connections open now (authenticated or not).
    public var openConnections = 0
    /// Authenticated peers connected now.
    public var connectedPeers = 0
    /// Networks in the directory (refreshed when the stored data changes).
    public var networks = 0
    /// Failed authentications by reason (`bad_token` — which includes an unknown network, see
    /// `HubRouter.authFailureLabel` —, `missing_token`, `malformed_token`, `bad_path`, `proof_failed`, `peer_revoked`,
    /// `unsupported_version`, `throttled`, ...).
    public var authFailures: [String: UInt64] = [:]
    /// Signaling messages relayed, by kind.
    public var relayed: [SignalKind: UInt64] = [:]
    /// Messages refused or answered with an error, by error code.
    public var rejected: [ErrorCode: UInt64] = [:]
    /// Sessions ended, by the reason given to other peers (`disconnected`, `timeout`, `revoked`, `replaced`).
    public var sessionsEnded: [String: UInt64] = [:]

    /// Connections closed as soon as they were accepted, by `RefusedConnectionLog.Kind` (`capacity`,
    /// `pending_per_address`).
    public var connectionsRefused: [String: UInt64] = [:]
    /// Connections closed because they read too slowly (their outbound queue overflowed).
    public var slowConnectionsClosed: UInt64 = 0
    /// Ephemeral peers removed from their network after being gone longer than the grace.
    public var ephemeralPeersRemoved: UInt64 = 0
    /// `ice_servers` requests answered (token holders that asked for the ICE servers without joining).
    public var iceServerRequests: UInt64 = 0

    /// Empty metrics.
    public init() {}

    mutating func countAuthFailure(_ reason: String) { authFailures[reason, default: 0] += 1 }
    mutating func countRejected(_ code: ErrorCode) { rejected[code, default: 0] += 1 }
    mutating func countRelayed(_ kind: SignalKind) { relayed[kind, default: 0] += 1 }
    mutating func countSessionEnded(_ reason: String) { sessionsEnded[reason, default: 0] += 1 }
}

extension HubMetrics {
    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    ///
    /// Every relay kind and error code is listed, with zero when nothing happened, so dashboards and
    /// alerts see the series from the start.
    public func prometheusText() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func label(_ key: String, _ value: String) -> String { "{\(key)=\"\(PrometheusText.escapeLabelValue(value))\"}" }
        family("riftgate_hub_connected_peers", "gauge", "Authenticated peers connected now.", [("", "\(connectedPeers)")])
        family("riftgate_hub_open_connections", "gauge", "WebSocket connections open now.", [("", "\(openConnections)")])
        family("riftgate_hub_networks", "gauge", "Networks configured on this hub.", [("", "\(networks)")])
        family("riftgate_hub_connections_total", "counter", "WebSocket connections accepted.", [("", "\(connectionsTotal)")])
        family("riftgate_hub_connections_refused_total", "counter",
               "Connections closed as soon as they were accepted: at the open-file limit, or too many from one address waiting for their upgrade.",
               RefusedConnectionLog.Kind.allCases.map { (label("reason", $0.rawValue), "\(connectionsRefused[$0.rawValue, default: 0])") })
        family("riftgate_hub_auth_failures_total", "counter", "Failed authentications by reason.",
               authFailures.sorted { $0.key < $1.key }.map { (label("reason", $0.key), "\($0.value)") })
        family("riftgate_hub_messages_relayed_total", "counter", "Signaling messages relayed by kind.",
               SignalKind.allCases.map { (label("kind", $0.rawValue), "\(relayed[$0, default: 0])") })
        family("riftgate_hub_messages_rejected_total", "counter", "Messages answered with an error, by error code.",
               ErrorCode.allCases.map { (label("code", $0.rawValue), "\(rejected[$0, default: 0])") })
        family("riftgate_hub_slow_connections_closed_total", "counter", "Connections closed because they read too slowly.",
               [("", "\(slowConnectionsClosed)")])
        family("riftgate_hub_ephemeral_peers_removed_total", "counter", "Ephemeral peers removed after being gone longer than the grace.",
               [("", "\(ephemeralPeersRemoved)")])
        family("riftgate_hub_ice_servers_requests_total", "counter", "ice_servers requests answered (netcheck with a token, no join).",
               [("", "\(iceServerRequests)")])
        family("riftgate_hub_sessions_ended_total", "counter", "Peer sessions ended, by reason.",
               sessionsEnded.sorted { $0.key < $1.key }.map { (label("reason", $0.key), "\($0.value)") })
        return out
    }

}
