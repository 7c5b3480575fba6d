/// How many candidates of each kind one side of an ICE generation had: ours as gathered, the peer's as signaled.
/// What `RelayExplanation` reads to say why a path is relayed.
public struct CandidateTally: Sendable, Hashable, Codable {
    public var host = 0
    public var serverReflexive = 0
    public var relayed = 0
    /// Whether that side said it has no more (gathering done, or `end_of_candidates` received).
    public var complete = false

    public init(host: Int = 0, serverReflexive: Int = 0, relayed: Int = 0, complete: Bool = false) {
        self.host = host
        self.serverReflexive = serverReflexive
        self.relayed = relayed
        self.complete = complete
    }

    /// Candidates that can make a direct (not relayed) pair.
    var direct: Int { host + serverReflexive }

    /// Counts the candidate of an SDP `candidate:` line (with or without `a=`) by its `typ`; ignores what does not parse.
    mutating func count(line: String) {
        guard let type = CandidateLine(line)?.type else { return }
        switch type {
        case "host": host += 1
        case "srflx", "prflx": serverReflexive += 1
        case "relay": relayed += 1
        default: break
        }
    }

    /// `2 host, 1 srflx, 1 relay`, or `none`.
    var text: String {
        var parts: [String] = []
        if host > 0 { parts.append("\(host) host") }
        if serverReflexive > 0 { parts.append("\(serverReflexive) srflx") }
        if relayed > 0 { parts.append("\(relayed) relay") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    enum CodingKeys: String, CodingKey {
        case host, relayed = "relay", serverReflexive = "srflx", complete
    }
}
