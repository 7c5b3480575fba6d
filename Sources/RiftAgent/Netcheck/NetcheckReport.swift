/// What one address family allows.
public struct NetcheckFamily: Sendable, Codable, Hashable {
    /// The STUN server probed.
    public var server: String
    /// Whether it answered over UDP.
    public var reachable = false
    /// Round-trip time of the first answer, in milliseconds.
    public var latencyMilliseconds: Double?
    /// The local address the system uses towards the hub.
    public var localAddress: String?
    /// The probe socket's local port.
    public var localPort: Int?
    /// The address and port the hub saw.
    public var mapped: String?
    /// The address and port the hub's second STUN port saw from the same socket.
    public var alternateMapped: String?
    /// Whether a NAT translated address or port.
    public var translated: Bool?
    /// Whether the mapping kept the local port.
    public var portPreserved: Bool?
    /// `endpoint-independent`, `endpoint-dependent`, or `unknown` (no answer from the second port).
    public var mapping: String?

    enum CodingKeys: String, CodingKey {
        case server, reachable, mapped, translated, mapping
        case latencyMilliseconds = "latency_ms", localAddress = "local_address", localPort = "local_port"
        case alternateMapped = "alternate_mapped", portPreserved = "port_preserved"
    }
}

/// The result of `riftgate netcheck`, printed as text or (`--json`) as this object.
public struct NetcheckReport: Sendable, Codable, Hashable {
    /// The hub probed.
    public var hub: String
    /// Its STUN port.
    public var stunPort: UInt16
    /// Its second STUN port.
    public var alternatePort: UInt16
    /// IPv4 results; nil when the hub has no IPv4 address.
    public var ipv4: NetcheckFamily?
    /// IPv6 results; nil when the hub has no IPv6 address.
    public var ipv6: NetcheckFamily?
    /// Whether any STUN answer arrived over UDP.
    public var udp = false
    /// The NAT's mapping behaviour as seen over IPv4 (else IPv6): `none` (no translation), `endpoint-independent`,
    /// `endpoint-dependent` or `unknown`.
    public var mapping = "unknown"
    /// TURN reachability over every TURN server: `reachable` (at least one allocation succeeded), `auth failed`,
    /// `unreachable`, `error`, `none offered` (the hub gives this network no TURN server), or `not checked (why)`.
    public var turn = "not checked"
    /// Each TURN URI probed; nil when TURN was not checked.
    public var turnServers: [NetcheckTURNServer]?
    /// Where the TURN credentials came from: `agent` (the running agent's, over its control socket) or `hub` (asked
    /// with the network's token, `--token-file`); nil when TURN was not checked.
    public var turnCredentialsFrom: String?
    /// `direct connections likely` or `expect relay`, with the reason in parentheses.
    public var verdict = ""

    enum CodingKeys: String, CodingKey {
        case hub, ipv4, ipv6, udp, mapping, turn, verdict
        case stunPort = "stun_port", alternatePort = "alternate_port", turnServers = "turn_servers"
        case turnCredentialsFrom = "turn_credentials_from"
    }

    init(hub: String, stunPort: UInt16, alternatePort: UInt16) {
        self.hub = hub
        self.stunPort = stunPort
        self.alternatePort = alternatePort
    }

    mutating func conclude() {
        summarizeTURN()
        concludeDirect()
        verdict += relayClause
    }

    /// `turn` from the probed servers: the best result any of them gave.
    private mutating func summarizeTURN() {
        guard let servers = turnServers else { return }
        let results = Set(servers.map(\.result))
        let best: [String] = ["reachable", "auth failed", "error", "unreachable"]
        if servers.isEmpty {
            turn = "none offered"
        } else if let found = best.first(where: { results.contains($0) }) {
            turn = found
        } else {
            turn = "not probed"
        }
    }

    /// What the relay adds to the verdict once TURN was checked; nothing when it was not.
    var relayClause: String {
        guard turnServers != nil else { return "" }
        let expectRelay = verdict.hasPrefix("expect relay")
        if turn == "reachable" {
            return expectRelay ? "; relay available: TURN allocation succeeded" : "; relay available as a fallback"
        }
        let why = turn == "none offered" ? "the hub offers no TURN server" : "TURN \(turn)"
        if !udp { return "; relay unavailable (\(why)): connections will fail" }
        return expectRelay ? "; relay unavailable (\(why)): connections through hard NATs will fail"
            : "; relay unavailable (\(why)): peers behind hard NATs will not reach this machine"
    }

    private mutating func concludeDirect() {
        let primary = [ipv4, ipv6].compactMap { $0 }.first { $0.reachable }
        udp = primary != nil
        guard let primary else {
            verdict = "expect relay (no UDP answer from the hub's STUN server: UDP is blocked or filtered)"
            return
        }
        if primary.translated == false {
            mapping = "none"
            verdict = "direct connections likely (no NAT between this machine and the hub)"
            return
        }
        mapping = primary.mapping ?? "unknown"
        switch mapping {
        case "endpoint-dependent":
            verdict = "expect relay (the NAT maps each destination to a new port: symmetric NAT)"
        case "endpoint-independent":
            verdict = "direct connections likely (the NAT keeps one mapping for every destination)"
        default:
            verdict = "direct connections likely (UDP works; mapping behaviour unknown: the hub answers no second STUN port)"
        }
    }

    /// The report for people.
    public var text: String {
        var lines = ["hub \(hub): STUN port \(stunPort), second port \(alternatePort)"]
        for (name, family) in [("IPv4", ipv4), ("IPv6", ipv6)] {
            guard let family else { lines.append("\(name): the hub has no \(name) address"); continue }
            guard family.reachable else { lines.append("\(name): no UDP answer from \(family.server)"); continue }
            var line = "\(name): UDP ok, \(family.latencyMilliseconds.map { "\($0) ms" } ?? "?") to \(family.server); seen as \(family.mapped ?? "?")"
            line += family.translated == true ? " (translated; port \(family.portPreserved == true ? "preserved" : "not preserved"))" : " (not translated)"
            lines.append(line)
            if let other = family.alternateMapped { lines.append("  second port saw \(other): mapping \(family.mapping ?? "unknown")") }
        }
        lines.append("NAT mapping: \(mapping)")
        if turn == "none offered" {
            lines.append("TURN: none offered (no TURN servers on this network)")
        } else {
            lines.append("TURN: \(turn)")
        }
        for server in turnServers ?? [] {
            var line = "  \(server.url): \(server.result)"
            if let latency = server.latencyMilliseconds { line += ", \(latency) ms" }
            lines.append(line)
        }
        switch turnCredentialsFrom {
        case "agent": lines.append("  (TURN login from the running agent)")
        case "hub": lines.append("  (TURN login from the hub, asked with the network's token)")
        default: break
        }
        lines.append("verdict: \(verdict)")
        return lines.joined(separator: "\n")
    }
}
