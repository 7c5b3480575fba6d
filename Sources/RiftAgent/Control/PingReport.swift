/// What `riftgate ping` found: the peer, the path that carried the echoes (from the agent's status), and each
/// round trip. Pure data and rendering; `PeerPing` does the I/O.
public struct PingReport: Codable, Sendable, Equatable {
    /// One echo request and its answer.
    public struct Probe: Codable, Sendable, Equatable {
        public var sequence: Int
        /// Round-trip time in milliseconds; nil when no reply came within the timeout.
        public var rttMs: Double?

        public init(sequence: Int, rttMs: Double?) {
            self.sequence = sequence
            self.rttMs = rttMs
        }
    }

    public var peer: String
    public var address: String
    /// `host`, `server-reflexive` or `relayed`; nil if the agent has not selected a pair.
    public var pathType: AgentStatus.PathType?
    public var pathMode: AgentStatus.PathMode?
    public var localCandidate: String?
    public var remoteCandidate: String?
    /// Why the path is what it is (the agent's `path_reason`).
    public var pathReason: String
    /// Why the agent last had to recover the path (an ICE failure or restart), if it ever did.
    public var lastRecoveryReason: String?
    /// Why the path is relayed (the agent's `relay_reason`); nil when it is not, or from an older agent.
    public var relayExplanation: String?
    /// What to do about a peer that stays unreachable (the agent's `hint`); nil when there is nothing to say.
    public var hint: String? = nil
    public var probes: [Probe]

    public init(peer: AgentStatus.Peer, probes: [Probe]) {
        self.peer = peer.name
        address = peer.ipv4
        pathType = peer.pathType
        pathMode = peer.pathMode
        localCandidate = peer.localCandidate
        remoteCandidate = peer.remoteCandidate
        pathReason = peer.pathReason
        lastRecoveryReason = peer.lastRecoveryReason
        relayExplanation = peer.relayReason
        hint = peer.hint
        self.probes = probes
    }

    /// Replies received.
    public var received: Int { probes.filter { $0.rttMs != nil }.count }

    /// True if at least one echo came back.
    public var answered: Bool { received > 0 }

    /// `direct`, `server-reflexive` or `relayed`, as `tailscale ping` says it: a host pair is a direct path.
    public var pathName: String {
        switch pathType {
        case .host: "direct"
        case .serverReflexive: "server-reflexive"
        case .relayed: "relayed"
        case nil: "unknown path"
        }
    }

    /// Why a relayed path is relayed: the agent's explanation (candidate kinds, forced relay), with the last recovery
    /// reason after it when there is one; from an older agent, the last recovery reason or else the path reason.
    public var relayReason: String? {
        guard pathType == .relayed else { return nil }
        guard let relayExplanation else { return lastRecoveryReason ?? pathReason }
        return relayExplanation + (lastRecoveryReason.map { "; last recovery: \($0)" } ?? "")
    }

    /// One line per probe, then the path's reason when relayed, then a summary when more than one probe was sent.
    public var text: String {
        let pair = localCandidate.flatMap { local in remoteCandidate.map { "local \(local) ⇄ remote \($0)" } }
        let via = "via \(pathName)" + (pair.map { " (\($0))" } ?? "") + (pathMode.map { ", WireGuard \($0.rawValue)" } ?? "")
        var lines = probes.map { probe in
            if let rtt = probe.rttMs {
                "pong from \(peer) (\(address)) \(via) in \(Self.milliseconds(rtt))"
            } else {
                "no reply from \(peer) (\(address)) to echo \(probe.sequence)"
            }
        }
        if answered, let reason = relayReason { lines.append("relayed because: \(reason)") }
        if !answered, let hint { lines.append("hint: \(hint)") }
        if probes.count > 1 {
            let times = probes.compactMap(\.rttMs)
            var summary = "\(probes.count) sent, \(received) received"
            if let low = times.min(), let high = times.max() {
                let mean = times.reduce(0, +) / Double(times.count)
                summary += ", rtt min/avg/max \(Self.milliseconds(low))/\(Self.milliseconds(mean))/\(Self.milliseconds(high))"
            }
            lines.append(summary)
        }
        return lines.joined(separator: "\n")
    }

    /// `0.42 ms`, `12.3 ms`, `153 ms`: three significant figures is all a round trip deserves.
    static func milliseconds(_ value: Double) -> String {
        let digits = value < 10 ? 2 : value < 100 ? 1 : 0
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        guard digits > 0 else { return "\(scaled) ms" }
        let whole = scaled / Int(scale), fraction = String(scaled % Int(scale))
        return "\(whole).\(String(repeating: "0", count: digits - fraction.count))\(fraction) ms"
    }
}

extension AgentStatus {
    /// The peer a `riftgate ping` target names: a peer name, its DNS name (whole, or its first labels such as
    /// `laptop-b`), or one of its overlay addresses.
    /// Fails with a message listing the known peers when nothing matches.
    public func peer(named target: String) throws(AgentError) -> Peer {
        let dnsTarget = target.lowercased().hasSuffix(".") ? String(target.lowercased().dropLast()) : target.lowercased()
        if let peer = peers.first(where: { $0.name == target || $0.ipv4 == target || $0.ipv6 == target }) { return peer }
        if let peer = peers.first(where: { $0.dnsName.map { $0 == dnsTarget || $0.hasPrefix(dnsTarget + ".") } ?? false }) { return peer }
        let known = peers.isEmpty ? "this agent knows no peers yet" : "known peers: " + peers.map(\.name).joined(separator: ", ")
        throw AgentError.system("unknown peer \(target) (\(known))")
    }
}
