import RiftSupport
extension AgentStatus {
    /// The path types a peer's selected ICE pair can have, each exported as one series of `riftgate_peer_path_type`.
    static let pathTypes = PathType.allCases

    /// The status as Prometheus metrics in node_exporter's textfile-collector format (the text exposition format,
    /// without timestamps): per-peer connectivity, path type, WireGuard handshake age, bytes and ICE restarts, so the
    /// host's usual node_exporter publishes them with no port of the agent's own.
    ///
    /// Every series carries `interface`, which tells two agents (two networks) on one machine apart; per-peer series
    /// add the peer's `name` and `public_key`. A handshake age is left out until a first handshake, rather than
    /// reported as zero (which would read as "just now").
    public var prometheusTextfile: String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += name + Self.labelSet(sample.labels) + " " + sample.value + "\n" }
        }
        let agent = [("interface", interface)]
        let peerLabels = peers.map { agent + [("peer", $0.name), ("public_key", $0.publicKey)] }
        func perPeer(_ value: (Peer) -> String?) -> [(labels: [(String, String)], value: String)] {
            zip(peers, peerLabels).compactMap { peer, labels in value(peer).map { (labels, $0) } }
        }

        family("riftgate_agent_info", "gauge", "The agent: its name, network, public key and WireGuard backend.",
               [(agent + [("name", name), ("network", network), ("public_key", publicKey), ("backend", backend)], "1")])
        family("riftgate_agent_hub_connected", "gauge", "1 while the agent's session with the hub is up.",
               [(agent, hub.state == .connected ? "1" : "0")])
        family("riftgate_agent_peers", "gauge", "Other peers in the network.", [(agent, "\(peers.count)")])
        family("riftgate_peer_connected", "gauge", "1 while the WireGuard handshake with the peer is recent (under 180 s) and no retry failed since.",
               perPeer { $0.state == .connected ? "1" : "0" })
        family("riftgate_peer_path_type", "gauge",
               "1 for the type of the peer's selected ICE pair (host, server-reflexive or relayed through TURN); all 0 before one is selected.",
               zip(peers, peerLabels).flatMap { peer, labels in
                   Self.pathTypes.map { type in (labels + [("type", type.rawValue)], peer.pathType == type ? "1" : "0") }
               })
        family("riftgate_peer_last_handshake_age_seconds", "gauge", "Seconds since the last WireGuard handshake with the peer.",
               perPeer { $0.lastHandshakeSecondsAgo.map { "\($0)" } })
        family("riftgate_peer_receive_bytes_total", "counter", "Bytes received from the peer through WireGuard.",
               perPeer { "\($0.rxBytes)" })
        family("riftgate_peer_transmit_bytes_total", "counter", "Bytes sent to the peer through WireGuard.",
               perPeer { "\($0.txBytes)" })
        family("riftgate_peer_ice_restarts_total", "counter", "ICE restarts with the peer in the current session.",
               perPeer { $0.iceRestarts.map { "\($0)" } })
        return out
    }

    private static func labelSet(_ labels: [(String, String)]) -> String {
        "{" + labels.map { "\($0.0)=\"\(PrometheusText.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }
}
