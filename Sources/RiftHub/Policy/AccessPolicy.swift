public import RiftProtocol

/// A network's access policy: which tagged peers may open connections to which, and on which ports.
///
/// The text form is one rule per line, `#` starting a comment:
/// ```
/// laptop -> server              # laptops reach servers on every port
/// ci -> cache:tcp/8080          # the CI runner reaches the build cache on tcp/8080 only
/// * -> dns:udp/53,tcp/53        # everyone reaches the resolvers on port 53
/// ```
/// A side is a tag (`a-z`, `0-9`, `-`, 1–63 characters, not starting with `-`) or `*` (every peer, tagged or not).
/// Rules only allow: a pair that no rule names cannot talk. A network without a policy is not restricted at all.
public struct AccessPolicy: Sendable, Hashable {
    /// The rules in the order of the text.
    public var rules: [AccessRule]

    /// Creates a policy from rules.
    public init(rules: [AccessRule]) {
        self.rules = rules
    }

    /// Parses the text form. With `knownTags`, a rule naming any other tag is refused (a misspelt tag would
    /// otherwise silently allow nothing). Fails with the first error, naming its line and rule.
    public init(parsing text: String, knownTags: Set<String>? = nil) throws(PolicyError) {
        var rules: [AccessRule] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]).trimmed(" \t\r")
            guard !line.isEmpty else { continue }
            let rule = try AccessRule(parsing: line, line: index + 1)
            if let knownTags {
                for tag in [rule.source.tag, rule.destination.tag].compactMap({ $0 }) where !knownTags.contains(tag) {
                    let known = knownTags.isEmpty ? "no peer or token of the network has a tag yet" : "known tags: " + knownTags.sorted().joined(separator: ", ")
                    throw PolicyError(line: index + 1, rule: line, "unknown tag \"\(tag)\" (\(known))")
                }
            }
            rules.append(rule)
        }
        guard rules.count <= Self.maximumRules else {
            throw PolicyError(line: rules[Self.maximumRules].line, rule: rules[Self.maximumRules].text, "a policy holds at most \(Self.maximumRules) rules")
        }
        self.rules = rules
    }

    /// The most rules a policy may hold.
    public static let maximumRules = 1000

    /// The canonical text: one rule per line, as written.
    public var text: String { rules.map { $0.text + "\n" }.joined() }
}

/// One line of an access policy: `SOURCE -> DESTINATION[:PORTS]`.
public struct AccessRule: Sendable, Hashable, CustomStringConvertible {
    /// Which peers a rule side names.
    public enum Side: Sendable, Hashable, CustomStringConvertible {
        /// Every peer.
        case any
        /// Peers carrying this tag.
        case tagged(String)

        /// The tag, nil for `*`.
        public var tag: String? { if case .tagged(let tag) = self { tag } else { nil } }

        /// Whether a peer with `tags` is on this side.
        public func matches(_ tags: Set<String>) -> Bool {
            switch self {
            case .any: true
            case .tagged(let tag): tags.contains(tag)
            }
        }

        public var description: String { tag ?? "*" }
    }

    /// Who may open connections.
    public var source: Side
    /// To whom.
    public var destination: Side
    /// On which ports of the destination; nil means every port and protocol (ICMP included).
    public var ports: [PortRule]?
    /// The line of the policy text it came from (1-based).
    public var line: Int
    /// The rule as written, without comment and surrounding blanks.
    public var text: String

    /// Parses one rule; `line` is for error messages.
    public init(parsing text: String, line: Int) throws(PolicyError) {
        let halves = text.splitOnArrow()
        guard let halves else {
            throw PolicyError(line: line, rule: text, "expected SOURCE -> DESTINATION[:PORTS], e.g. laptop -> server or ci -> cache:tcp/8080")
        }
        let sourceText = halves.0.trimmed(" \t")
        let target = halves.1.trimmed(" \t")
        let targetParts = target.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        self.source = try Self.side(sourceText, line: line, rule: text)
        self.destination = try Self.side(String(targetParts[0]).trimmed(" \t"), line: line, rule: text)
        if targetParts.count == 2 {
            var ports: [PortRule] = []
            for item in targetParts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let word = String(item).trimmed(" \t")
                guard let port = PortRule(word) else {
                    throw PolicyError(line: line, rule: text, "\"\(word)\" is not a port rule (expected tcp/22, udp/53 or tcp/8000-8099)")
                }
                ports.append(port)
            }
            guard ports.count <= PeerInfo.maximumAllowInRules else {
                throw PolicyError(line: line, rule: text, "a rule names at most \(PeerInfo.maximumAllowInRules) port rules")
            }
            self.ports = ports
        } else {
            self.ports = nil
        }
        self.line = line
        self.text = text
    }

    private static func side(_ text: String, line: Int, rule: String) throws(PolicyError) -> Side {
        if text == "*" { return .any }
        guard Names.isValidNetworkName(text) else {
            throw PolicyError(line: line, rule: rule, "\"\(text)\" is not a tag (1-63 characters of a-z, 0-9 and -, not starting with -) or *")
        }
        return .tagged(text)
    }

    public var description: String { "line \(line): \(text)" }
}

/// A policy that does not parse or names an unknown tag: where and why.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line (1-based).
    public var line: Int
    /// The rule as written.
    public var rule: String
    /// What is wrong with it.
    public var reason: String

    /// Creates an error.
    public init(line: Int, rule: String, _ reason: String) {
        self.line = line
        self.rule = rule
        self.reason = reason
    }

    public var description: String { "line \(line): \"\(rule)\": \(reason)" }
}

extension String {
    /// The text before and after the one `->` it holds; nil when it holds none or several.
    func splitOnArrow() -> (String, String)? {
        let characters = Array(self)
        var found: Int?
        for index in characters.indices.dropLast() where characters[index] == "-" && characters[index + 1] == ">" {
            guard found == nil else { return nil }
            found = index
        }
        guard let found else { return nil }
        return (String(characters[..<found]), String(characters[(found + 2)...]))
    }

    func trimmed(_ set: String) -> String {
        let blanks = Set(set)
        var scalars = Substring(self)
        while let first = scalars.first, blanks.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, blanks.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
