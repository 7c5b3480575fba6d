import RiftProtocol

/// A subnet route: an IPv4 or IPv6 prefix in canonical form (host bits zero, RFC 5952 text for IPv6).
///
/// Routes are ordered IPv4 before IPv6, then by address and length, so that plans, rulesets and status lists are
/// stable.
public enum RoutePrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An IPv4 route.
    case v4(IPv4Prefix)
    /// An IPv6 route.
    case v6(IPv6Prefix)

    /// The most routes one agent may advertise.
    public static let maximumAdvertised = 16
    /// The IPv4 prefix lengths a subnet route may have (/0 is an exit node, item 3 of issue 16).
    public static let ipv4Lengths = 8...32
    /// The IPv6 prefix lengths a subnet route may have.
    public static let ipv6Lengths = 16...128

    /// Parses canonical CIDR text; nil for anything else (use `parse(_:)` for the reason).
    public init?(_ text: String) {
        guard case .success(let prefix) = Self.parse(text) else { return nil }
        self = prefix
    }

    /// Parses CIDR text, saying precisely what is wrong with it. Lengths are not checked here (see `validated`).
    public static func parse(_ text: String) -> Result<RoutePrefix, RouteError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber) else {
            return .failure(RouteError("\"\(text)\" is not a CIDR prefix (e.g. 192.168.1.0/24 or fd00:1::/64)"))
        }
        if let address = IPv4Address(String(parts[0])) {
            guard length <= 32 else { return .failure(RouteError("\"\(text)\": an IPv4 prefix length is at most 32")) }
            let prefix = IPv4Prefix(network: address, length: length)
            guard prefix.network == address else {
                return .failure(RouteError("\"\(text)\" has host bits set; the network is \(prefix)"))
            }
            return .success(.v4(prefix))
        }
        if let address = IPv6Address(String(parts[0])) {
            guard length <= 128 else { return .failure(RouteError("\"\(text)\": an IPv6 prefix length is at most 128")) }
            let network = IPv6Address(bytes: Self.masked(address.bytes, length))
            guard network == address else {
                return .failure(RouteError("\"\(text)\" has host bits set; the network is \(network)/\(length)"))
            }
            guard let prefix = IPv6Prefix("\(network)/\(length)") else { return .failure(RouteError("\"\(text)\" is not a CIDR prefix")) }
            guard "\(prefix)" == text else { return .failure(RouteError("\"\(text)\" is not written canonically; write \(prefix)")) }
            return .success(.v6(prefix))
        }
        return .failure(RouteError("\"\(text)\" is not a CIDR prefix (e.g. 192.168.1.0/24 or fd00:1::/64)"))
    }

    /// Checks a list of routes to advertise (`advertise_routes`, `--advertise-routes`): each canonical, not a default
    /// route, IPv4 /8–/32 or IPv6 /16–/128, at most 16, no duplicates. `setting` names the source in errors.
    public static func validated(_ texts: [String], setting: String) throws(AgentError) -> [RoutePrefix] {
        guard texts.count <= maximumAdvertised else {
            throw AgentError.configuration("\(setting): at most \(maximumAdvertised) routes may be advertised, got \(texts.count)")
        }
        var routes: [RoutePrefix] = []
        for text in texts {
            let route: RoutePrefix
            switch parse(text) {
            case .failure(let error): throw AgentError.configuration("\(setting): \(error.message)")
            case .success(let parsed): route = parsed
            }
            guard route.length != 0 else {
                throw AgentError.configuration("\(setting): \"\(text)\" is a default route; sending all traffic through a peer is an exit node, not a subnet route")
            }
            let lengths = route.isIPv6 ? ipv6Lengths : ipv4Lengths
            guard lengths.contains(route.length) else {
                throw AgentError.configuration("\(setting): \"\(text)\": \(route.isIPv6 ? "IPv6" : "IPv4") routes must be /\(lengths.lowerBound) to /\(lengths.upperBound)")
            }
            guard !routes.contains(route) else { throw AgentError.configuration("\(setting): \"\(text)\" is listed twice") }
            routes.append(route)
        }
        return routes
    }

    /// Whether this is an IPv6 prefix.
    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// The prefix length.
    public var length: Int {
        switch self {
        case .v4(let prefix): prefix.length
        case .v6(let prefix): prefix.length
        }
    }

    /// Whether the two prefixes share any address (one contains the other). Prefixes of different families never do.
    public func overlaps(_ other: RoutePrefix) -> Bool {
        switch (self, other) {
        case (.v4(let a), .v4(let b)):
            let shorter = min(a.length, b.length)
            return IPv4Prefix(network: a.network, length: shorter) == IPv4Prefix(network: b.network, length: shorter)
        case (.v6(let a), .v6(let b)):
            let shorter = min(a.length, b.length)
            return Self.masked(a.network.bytes, shorter) == Self.masked(b.network.bytes, shorter)
        default:
            return false
        }
    }

    /// Whether this prefix contains all of `other`.
    public func covers(_ other: RoutePrefix) -> Bool { overlaps(other) && length <= other.length }

    public var description: String {
        switch self {
        case .v4(let prefix): "\(prefix)"
        case .v6(let prefix): "\(prefix)"
        }
    }

    public static func < (lhs: RoutePrefix, rhs: RoutePrefix) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): (a.network, a.length) < (b.network, b.length)
        case (.v6(let a), .v6(let b)):
            a.network.bytes == b.network.bytes ? a.length < b.length : a.network.bytes.lexicographicallyPrecedes(b.network.bytes)
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    /// `bytes` with every bit from `length` on cleared.
    static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        var result = bytes
        for index in 0..<result.count {
            let keep = max(0, min(8, length - index * 8))
            result[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return result
    }
}

/// Why a text is not a usable route.
public struct RouteError: Error, Sendable, Equatable {
    /// The explanation, naming the offending text.
    public let message: String
    init(_ message: String) { self.message = message }
}
