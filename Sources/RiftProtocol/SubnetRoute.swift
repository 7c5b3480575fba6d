/// A subnet route a peer advertises (PROTOCOL.md §6.14): an IPv4 or IPv6 prefix in canonical text, such as
/// `192.168.1.0/24` or `fd00:1::/64`.
public enum SubnetRoute: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An IPv4 route.
    case ipv4(IPv4Prefix)
    /// An IPv6 route.
    case ipv6(IPv6Prefix)

    /// The most routes one `hello.advertise_routes` or `PeerInfo.routes` may hold.
    public static let maximumCount = 16
    /// The shortest IPv4 route: shorter ones (a default route above all) are not subnet routes.
    public static let minimumIPv4Length = 8
    /// The shortest IPv6 route.
    public static let minimumIPv6Length = 16
    /// The longest canonical text (an IPv6 address of 39 characters and `/128`).
    public static let maximumTextLength = 43

    /// Parses a prefix in canonical text: host bits zero, IPv4 as dotted quad, IPv6 in RFC 5952 form (lower case,
    /// shortest). Nil for anything else, and for a prefix shorter than a route may be (`/8` for IPv4, `/16` for IPv6).
    public init?(_ text: String) {
        guard text.utf8.count <= Self.maximumTextLength else { return nil }
        if text.contains(":") {
            guard let prefix = IPv6Prefix(text), prefix.length >= Self.minimumIPv6Length else { return nil }
            self = .ipv6(prefix)
        } else {
            guard let prefix = IPv4Prefix(text), prefix.length >= Self.minimumIPv4Length else { return nil }
            self = .ipv4(prefix)
        }
        guard description == text else { return nil }
    }

    /// The prefix length.
    public var length: Int {
        switch self {
        case .ipv4(let prefix): prefix.length
        case .ipv6(let prefix): prefix.length
        }
    }

    /// Whether the two prefixes share any address (one contains the other); prefixes of different families never do.
    public func overlaps(_ other: SubnetRoute) -> Bool {
        switch (self, other) {
        case (.ipv4(let a), .ipv4(let b)):
            let length = min(a.length, b.length)
            return a.network.value & IPv4Prefix.mask(length) == b.network.value & IPv4Prefix.mask(length)
        case (.ipv6(let a), .ipv6(let b)):
            let length = min(a.length, b.length)
            for bit in 0..<length {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                if a.network.bytes[bit / 8] & mask != b.network.bytes[bit / 8] & mask { return false }
            }
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let prefix): prefix.description
        case .ipv6(let prefix): prefix.description
        }
    }

    /// IPv4 before IPv6, then by address, then shorter first: the order routes are listed in.
    public static func < (lhs: SubnetRoute, rhs: SubnetRoute) -> Bool {
        switch (lhs, rhs) {
        case (.ipv4(let a), .ipv4(let b)): (a.network.value, a.length) < (b.network.value, b.length)
        case (.ipv6(let a), .ipv6(let b)):
            a.network.bytes == b.network.bytes ? a.length < b.length : a.network.bytes.lexicographicallyPrecedes(b.network.bytes)
        case (.ipv4, .ipv6): true
        case (.ipv6, .ipv4): false
        }
    }

    /// Checks a list of routes read from the wire (`hello.advertise_routes`, `PeerInfo.routes`): at most 16, each
    /// canonical, no duplicates. Fails with `invalid_value` naming the first problem.
    static func checkList(_ texts: [String], _ field: String) throws(ProtocolError) -> [SubnetRoute] {
        guard texts.count <= maximumCount else {
            throw ProtocolError(.invalidValue, "\(field) holds more than \(maximumCount) routes")
        }
        var routes: [SubnetRoute] = []
        for text in texts {
            guard let route = SubnetRoute(text) else {
                throw ProtocolError(.invalidValue, "\(field) holds \"\(text)\", not a canonical route such as 192.168.1.0/24 or fd00:1::/64 (host bits zero, IPv4 /8 to /32, IPv6 /16 to /128, IPv6 in RFC 5952 form)")
            }
            guard !routes.contains(route) else { throw ProtocolError(.invalidValue, "\(field) holds \(text) twice") }
            routes.append(route)
        }
        return routes
    }

    /// Reads an optional list of routes (absent: nil); a non-array or non-string entry is `wrong_type`.
    static func readList(_ reader: inout ObjectReader, _ key: String, _ field: String) throws(ProtocolError) -> [SubnetRoute]? {
        guard reader.optionalValue(key) != nil else { return nil }
        // Longer entries are invalid routes, not wrong types: read up to a bound that keeps the message short.
        let texts = try reader.strings(key, maxCount: Int.max, maxLength: 256)
        return try checkList(texts, field)
    }
}
