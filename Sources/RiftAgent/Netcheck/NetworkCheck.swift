import Foundation

/// `riftgate netcheck`: what this machine's network allows, found without joining anything — UDP to the hub's STUN
/// server and its latency, per address family; whether a NAT translates the address, and whether it keeps one mapping
/// for every destination (endpoint-independent, "cone") or makes one per destination (endpoint-dependent,
/// "symmetric"), which needs the hub's second STUN port (`stun_alt_port`); whether it preserves the local port; and a
/// one-line verdict.
public struct NetworkCheck: Sendable {
    /// The hub's host name or address.
    public var hubHost: String
    /// The hub's STUN port.
    public var stunPort: UInt16 = 3478
    /// The hub's second STUN port (`stun_alt_port`).
    public var alternatePort: UInt16 = 3479
    /// How long to wait for one STUN answer, retransmissions included.
    public var probeTimeoutMilliseconds: Int32 = 1500

    /// A check against the hub at `hubURL` (`wss://host:port`, as in the agent's configuration, or a bare host).
    public init(hubURL: String) throws(AgentError) {
        if let host = URL(string: hubURL)?.host, !host.isEmpty {
            hubHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        } else if !hubURL.contains("/") {
            hubHost = hubURL
        } else {
            throw AgentError.configuration("cannot find the hub's host in \(hubURL)")
        }
    }

    /// Runs every probe; takes a few seconds at most (longer only when every probe times out).
    public func run() -> NetcheckReport {
        let destinations = ProbeDestination.resolve(hubHost, port: stunPort)
        var report = NetcheckReport(hub: hubHost, stunPort: stunPort, alternatePort: alternatePort)
        for family in [AF_INET, AF_INET6] {
            guard let destination = destinations.first(where: { $0.family == family }) else { continue }
            let result = probeFamily(destination)
            if family == AF_INET { report.ipv4 = result } else { report.ipv6 = result }
        }
        report.conclude()
        return report
    }

    private func probeFamily(_ destination: ProbeDestination) -> NetcheckFamily {
        var result = NetcheckFamily(server: "\(destination.address) port \(stunPort)")
        result.localAddress = ProbeSocket.localAddress(towards: destination)
        guard let socket = try? ProbeSocket(family: destination.family) else { return result }
        result.localPort = Int(socket.localPort)
        guard let (mapped, rtt) = probe(socket, destination) else { return result }
        result.reachable = true
        result.latencyMilliseconds = (rtt * 10).rounded() / 10
        result.mapped = "\(mapped.address) port \(mapped.port)"
        result.translated = mapped.address != result.localAddress || Int(mapped.port) != result.localPort
        result.portPreserved = Int(mapped.port) == result.localPort
        if let (other, _) = probe(socket, destination.with(port: alternatePort)) {
            result.alternateMapped = "\(other.address) port \(other.port)"
            result.mapping = other == mapped ? "endpoint-independent" : "endpoint-dependent"
        } else {
            result.mapping = "unknown"
        }
        return result
    }

    /// One Binding transaction, retransmitted at 0, 250 and 750 ms: the mapping and the round-trip time of the first
    /// answer (measured from the last send before it), or nil.
    private func probe(_ socket: ProbeSocket, _ destination: ProbeDestination) -> ((address: String, port: UInt16), Double)? {
        let (request, transaction) = STUNProbe.request()
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(probeTimeoutMilliseconds))
        let retransmissions: [Duration] = [.zero, .milliseconds(250), .milliseconds(750)]
        var next = 0
        var lastSent = start
        while ContinuousClock.now < deadline {
            if next < retransmissions.count, ContinuousClock.now >= start + retransmissions[next] {
                guard socket.send(request, to: destination) else { return nil }
                lastSent = ContinuousClock.now
                next += 1
            }
            let until = next < retransmissions.count ? min(deadline, start + retransmissions[next]) : deadline
            let wait = max(1, Int32((until - ContinuousClock.now).components.attoseconds / 1_000_000_000_000_000
                                    + (until - ContinuousClock.now).components.seconds * 1000))
            guard let answer = socket.receive(milliseconds: wait) else { continue }
            if let mapped = STUNProbe.mappedEndpoint(in: answer, transaction: transaction) {
                let elapsed = ContinuousClock.now - lastSent
                let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                return (mapped, milliseconds)
            }
        }
        return nil
    }
}

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
    /// TURN reachability: not checked by this version (it needs the network's TURN credentials).
    public var turn = "not checked"
    /// `direct connections likely` or `expect relay`, with the reason in parentheses.
    public var verdict = ""

    enum CodingKeys: String, CodingKey {
        case hub, ipv4, ipv6, udp, mapping, turn, verdict
        case stunPort = "stun_port", alternatePort = "alternate_port"
    }

    init(hub: String, stunPort: UInt16, alternatePort: UInt16) {
        self.hub = hub
        self.stunPort = stunPort
        self.alternatePort = alternatePort
    }

    mutating func conclude() {
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
        lines.append("TURN: \(turn)")
        lines.append("verdict: \(verdict)")
        return lines.joined(separator: "\n")
    }
}
