import RiftProtocol

/// The agent's checks of routes a user wrote (`advertise_routes`, `--advertise-routes`), on the protocol's `SubnetRoute`
/// (PROTOCOL.md §6.14): one type from the configuration to the wire.
extension SubnetRoute {
    /// The IPv4 prefix lengths a subnet route may have (/0 is an exit node, item 3 of issue 16).
    public static let ipv4Lengths = minimumIPv4Length...32
    /// The IPv6 prefix lengths a subnet route may have.
    public static let ipv6Lengths = minimumIPv6Length...128

    /// Parses CIDR text, saying precisely what is wrong with it. Lengths are not checked here (see `validated`).
    public static func parse(_ text: String) -> Result<SubnetRoute, RouteError> {
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
            return .success(.ipv4(prefix))
        }
        if let address = IPv6Address(String(parts[0])) {
            guard length <= 128 else { return .failure(RouteError("\"\(text)\": an IPv6 prefix length is at most 128")) }
            let network = IPv6Address(bytes: Self.masked(address.bytes, length))
            guard network == address else {
                return .failure(RouteError("\"\(text)\" has host bits set; the network is \(network)/\(length)"))
            }
            guard let prefix = IPv6Prefix("\(network)/\(length)") else { return .failure(RouteError("\"\(text)\" is not a CIDR prefix")) }
            guard "\(prefix)" == text else { return .failure(RouteError("\"\(text)\" is not written canonically; write \(prefix)")) }
            return .success(.ipv6(prefix))
        }
        return .failure(RouteError("\"\(text)\" is not a CIDR prefix (e.g. 192.168.1.0/24 or fd00:1::/64)"))
    }

    /// Checks a list of routes to advertise (`advertise_routes`, `--advertise-routes`): each canonical, not a default
    /// route, IPv4 /8–/32 or IPv6 /16–/128, at most 16, no duplicates. `setting` names the source in errors.
    public static func validated(_ texts: [String], setting: String) throws(AgentError) -> [SubnetRoute] {
        guard texts.count <= maximumCount else {
            throw AgentError.configuration("\(setting): at most \(maximumCount) routes may be advertised, got \(texts.count)")
        }
        var routes: [SubnetRoute] = []
        for text in texts {
            let route: SubnetRoute
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
    public var isIPv6: Bool { if case .ipv6 = self { true } else { false } }

    /// Whether this prefix contains all of `other`.
    public func covers(_ other: SubnetRoute) -> Bool { overlaps(other) && length <= other.length }

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
