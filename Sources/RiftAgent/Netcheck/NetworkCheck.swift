import FoundationEssentials
import Glibc

/// `riftgate netcheck`: what this machine's network allows, found without joining anything — UDP to the hub's STUN
/// server and its latency, per address family; whether a NAT translates the address, and whether it keeps one mapping
/// for every destination (endpoint-independent, "cone") or makes one per destination (endpoint-dependent,
/// "symmetric"), which needs the hub's second STUN port (`stun_alt_port`); whether it preserves the local port; when
/// TURN credentials are given (`turnServers`, from the running agent or from the hub by token), whether an
/// authenticated TURN allocation succeeds on each of the network's TURN servers; and a one-line verdict that takes the
/// relay into account.
public struct NetworkCheck: Sendable {
    /// The hub's host name or address.
    public var hubHost: String
    /// The hub's STUN port.
    public var stunPort: UInt16 = 3478
    /// The hub's second STUN port (`stun_alt_port`).
    public var alternatePort: UInt16 = 3479
    /// How long to wait for one STUN answer, retransmissions included.
    public var probeTimeoutMilliseconds: Int32 = 1500
    /// The network's TURN servers and credentials to probe, or nil when they are not known.
    public var turnServers: [TURNCredentialSet]?
    /// Where `turnServers` came from (`agent` or `hub`), for the report's `turn_credentials_from`.
    public var turnCredentialsFrom: String?
    /// Why `turnServers` is nil, for the report (`not checked (…)`).
    public var turnNotChecked = "no TURN credentials"
    /// How long to wait for one TURN answer, in seconds.
    public var turnStepTimeout: Double = 2

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
        if let turnServers {
            report.turnServers = TURNReachability.check(turnServers, stepTimeout: turnStepTimeout)
            report.turnCredentialsFrom = turnCredentialsFrom
        } else {
            report.turn = "not checked (\(turnNotChecked))"
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
