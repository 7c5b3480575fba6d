public import RiftProtocol

/// What an access policy lets one peer open towards another, and which rules say so.
public struct AccessDecision: Sendable, Hashable {
    /// The rules whose source matches the first peer and destination the second, in policy order.
    public var matchedRules: [AccessRule]
    /// The ports allowed, merged over `matchedRules`; nil means every port and protocol.
    public var ports: [PortRule]?

    /// Whether the first peer may open anything at all towards the second.
    public var isAllowed: Bool { isUnrestricted || !matchedRules.isEmpty }

    /// The decision of a network without a policy: everything allowed, by no rule.
    public static let unrestricted = AccessDecision(matchedRules: [], ports: nil, unrestricted: true)

    /// Whether this is the decision of a network without a policy.
    public let isUnrestricted: Bool

    init(matchedRules: [AccessRule], ports: [PortRule]?, unrestricted: Bool = false) {
        self.matchedRules = matchedRules
        self.ports = ports
        self.isUnrestricted = unrestricted
    }

    /// What `allow_in` carries for this decision (PROTOCOL.md §6.11): nil for everything, the ports for a
    /// port-restricted pair, an empty list when nothing may be opened (the pair is introduced only because the
    /// other direction is allowed).
    public var allowIn: [PortRule]? {
        isAllowed ? ports : []
    }

    /// Whether a connection to `port` over `transport` is allowed.
    public func allows(_ transport: PortRule.Transport, port: UInt16) -> Bool {
        guard isAllowed else { return false }
        return ports.map { $0.contains { $0.contains(transport, port: port) } } ?? true
    }
}

extension AccessPolicy {
    /// What a peer tagged `sourceTags` may open towards a peer tagged `destinationTags`: the union of every matching
    /// rule, every port as soon as one matching rule names no port.
    public func decision(from sourceTags: Set<String>, to destinationTags: Set<String>) -> AccessDecision {
        let matched = rules.filter { $0.source.matches(sourceTags) && $0.destination.matches(destinationTags) }
        guard !matched.isEmpty else { return AccessDecision(matchedRules: [], ports: []) }
        if matched.contains(where: { $0.ports == nil }) { return AccessDecision(matchedRules: matched, ports: nil) }
        let ports = Set(matched.flatMap { $0.ports ?? [] }).sorted()
        return AccessDecision(matchedRules: matched, ports: Array(ports.prefix(PeerInfo.maximumAllowInRules)))
    }
}

/// A network's access control as the router applies it: its policy (nil: none, everyone reaches everyone) and the
/// tags of its peers.
public struct NetworkAccess: Sendable, Hashable {
    /// The policy; nil when the network has none.
    public var policy: AccessPolicy?
    /// Each peer's tags; a peer absent here has none.
    public var tags: [PublicKey: Set<String>]

    /// Creates a network's access control.
    public init(policy: AccessPolicy?, tags: [PublicKey: Set<String>]) {
        self.policy = policy
        self.tags = tags
    }

    /// No policy: everyone reaches everyone.
    public static let open = NetworkAccess(policy: nil, tags: [:])

    /// What `source` may open towards `destination`.
    public func decision(from source: PublicKey, to destination: PublicKey) -> AccessDecision {
        guard let policy else { return .unrestricted }
        return policy.decision(from: tags[source] ?? [], to: tags[destination] ?? [])
    }

    /// Whether the hub introduces the two peers to each other: when either may open anything towards the other.
    public func introduces(_ first: PublicKey, _ second: PublicKey) -> Bool {
        decision(from: first, to: second).isAllowed || decision(from: second, to: first).isAllowed
    }

    /// Whether `other` gives the two peers the same access to each other, both ways, as this: what their agents are
    /// told (`allow_in`), not which rule lines say so (a rule that only moved changes nothing).
    public func grantsTheSame(between first: PublicKey, and second: PublicKey, as other: NetworkAccess) -> Bool {
        decision(from: first, to: second).allowIn == other.decision(from: first, to: second).allowIn
            && decision(from: second, to: first).allowIn == other.decision(from: second, to: first).allowIn
    }
}
