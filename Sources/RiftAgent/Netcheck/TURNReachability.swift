import FoundationEssentials
import RiftTURN

/// One TURN URI as `riftgate netcheck` found it.
public struct NetcheckTURNServer: Sendable, Codable, Hashable {
    /// The URI, as the hub hands it out.
    public var url: String
    /// `udp`, `tcp` or `tls`.
    public var transport: String
    /// `reachable` (an authenticated allocation succeeded), `auth failed` (the server refused the credentials),
    /// `unreachable` (no answer, refused, or the name did not resolve), `error` (another answer), or `not probed`
    /// (TLS, or a URI that does not parse).
    public var result: String
    /// The round-trip time of the first Allocate, in milliseconds; nil when nothing answered.
    public var latencyMilliseconds: Double?

    enum CodingKeys: String, CodingKey {
        case url, transport, result
        case latencyMilliseconds = "latency_ms"
    }

    /// The text `result` for a probe's outcome.
    static func resultText(_ result: TURNCheckResult) -> String {
        switch result {
        case .ok: "reachable"
        case .rejected: "auth failed"
        case .unreachable: "unreachable"
        case .error: "error"
        }
    }
}

/// Whether this machine can allocate on the network's TURN servers with the credentials its agent holds: a real
/// authenticated Allocate (released at once) per URI, over the URI's transport — the hub's own TURN check
/// (`TURNAllocationProbe`, module RiftTURN) from this side of the network. TLS (`turns:`) is reported as not probed.
enum TURNReachability {
    /// Probes every distinct URI of `sets`, one after another; each takes at most a few `stepTimeout`s.
    static func check(_ sets: [TURNCredentialSet], stepTimeout: Double) -> [NetcheckTURNServer] {
        var results: [NetcheckTURNServer] = []
        var seen: Set<String> = []
        for set in sets {
            for url in set.urls where seen.insert(url).inserted {
                guard let server = TURNServerAddress(url: url, transports: [.udp, .tcp]) else {
                    let tls = TURNServerAddress(url: url, transports: [.tls]) != nil
                    results.append(NetcheckTURNServer(url: url, transport: tls ? "tls" : "?", result: "not probed"))
                    continue
                }
                let outcome = TURNAllocationProbe(server: server, username: set.username, password: set.credential,
                                                  stepTimeout: stepTimeout).measure()
                var entry = NetcheckTURNServer(url: url, transport: server.transport.rawValue,
                                               result: NetcheckTURNServer.resultText(outcome.result))
                if let rtt = outcome.roundTripMilliseconds { entry.latencyMilliseconds = (rtt * 10).rounded() / 10 }
                results.append(entry)
            }
        }
        return results
    }
}

extension NetworkCheck {
    /// Where netcheck gets the network's TURN credentials: from the agent of `configPath`, over its control socket,
    /// when that agent runs and belongs to the hub being checked (`hubHost`). The hub hands TURN credentials only to a
    /// joined peer (PROTOCOL.md §6.3), and a second session with the agent's key would replace the running one (§5), so
    /// netcheck does not join: it asks the agent. Returns the sets, or why TURN cannot be checked.
    public static func turnCredentials(configPath: String, hubHost: String) -> Result<[TURNCredentialSet], AgentError> {
        let configuration: AgentConfiguration
        do { configuration = try AgentConfiguration.load(path: configPath) } catch {
            return .failure(.configuration("no agent configuration (\(configPath)) to take the network's TURN credentials from"))
        }
        let configured = configuration.hubs.compactMap { try? NetworkCheck(hubURL: $0).hubHost }
        if !configured.isEmpty, !configured.contains(hubHost) {
            return .failure(.configuration("the configured agent belongs to another hub (\(configured.joined(separator: ", ")))"))
        }
        do { return .success(try ControlClient.turnServers(socketPath: configuration.controlSocket)) } catch {
            return .failure(error)
        }
    }
}
