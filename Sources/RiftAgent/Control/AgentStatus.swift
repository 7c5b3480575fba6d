/// What `riftgate status` shows: the hub connection and every peer, from WireGuard's and ICE's own state.
public struct AgentStatus: Codable, Sendable, Equatable {
    /// The hub session.
    public struct Hub: Codable, Sendable, Equatable {
        public var url: String
        /// `connected`, `connecting` or `disconnected`.
        public var state: String
        public var lastError: String?
    }

    /// One remote peer.
    public struct Peer: Codable, Sendable, Equatable {
        public var name: String
        public var publicKey: String
        public var ipv4: String
        public var ipv6: String
        /// `connected` only while the WireGuard handshake is recent; otherwise the ICE state.
        public var state: String
        /// `host`, `server-reflexive` or `relayed` (nil before a pair is selected).
        public var pathType: String?
        /// `direct` (WireGuard straight to the peer) or `forwarded` (through the agent over ICE).
        public var pathMode: String?
        public var pathReason: String
        public var localCandidate: String?
        public var remoteCandidate: String?
        public var endpoint: String?
        /// Seconds since the last WireGuard handshake, nil if none yet.
        public var lastHandshakeSecondsAgo: Int64?
        public var rxBytes: UInt64
        public var txBytes: UInt64
        public var iceState: String
        public var lastRecoveryReason: String?
        /// ICE restarts with this peer in the current session (the session's generation); nil from older agents.
        public var iceRestarts: Int64? = nil
    }

    public var name: String
    public var publicKey: String
    public var network: String
    public var interface: String
    public var ipv4: String?
    public var ipv6: String?
    public var listenPort: UInt16
    public var backend: String
    public var hub: Hub
    public var peers: [Peer]
}

extension AgentStatus {
    /// A readable table for people.
    public var text: String {
        var lines = [
            "riftgate \(name) (\(publicKey))",
            "  network \(network) on \(interface) [\(backend)]: \(ipv4 ?? "-") \(ipv6 ?? "-"), WireGuard port \(listenPort)",
            "  hub \(hub.url): \(hub.state)" + (hub.lastError.map { " (\($0))" } ?? ""),
        ]
        if peers.isEmpty { lines.append("  no other peers") }
        for peer in peers {
            let handshake = peer.lastHandshakeSecondsAgo.map { "\($0)s ago" } ?? "never"
            lines.append("  peer \(peer.name) \(peer.ipv4) \(peer.ipv6)")
            lines.append("    key \(peer.publicKey)")
            lines.append("    state \(peer.state), path \(peer.pathType ?? "-") \(peer.pathMode ?? "") — \(peer.pathReason)")
            if let local = peer.localCandidate, let remote = peer.remoteCandidate {
                lines.append("    candidates local \(local) ⇄ remote \(remote)")
            }
            lines.append("    endpoint \(peer.endpoint ?? "-"), handshake \(handshake), rx \(peer.rxBytes) B, tx \(peer.txBytes) B")
            if let reason = peer.lastRecoveryReason { lines.append("    last recovery: \(reason)") }
        }
        return lines.joined(separator: "\n")
    }
}
