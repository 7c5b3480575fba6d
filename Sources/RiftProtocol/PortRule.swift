/// One transport protocol and port range a peer may open connections to: `tcp/22`, `udp/53`, `tcp/8000-8099`.
///
/// Carried in `PeerInfo.allowIn` (protocol version 2, PROTOCOL.md §6.11) and written in access policies.
public struct PortRule: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The transport protocols a rule may name.
    public enum Transport: String, Sendable, Hashable, CaseIterable, Comparable {
        case tcp, udp
        public static func < (lhs: Transport, rhs: Transport) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// TCP or UDP.
    public var transport: Transport
    /// The first port of the range, 1-65535.
    public var lowPort: UInt16
    /// The last port of the range, at least `lowPort`.
    public var highPort: UInt16

    /// Creates a rule; nil when the range is empty or includes port 0.
    public init?(transport: Transport, lowPort: UInt16, highPort: UInt16? = nil) {
        let high = highPort ?? lowPort
        guard lowPort >= 1, high >= lowPort else { return nil }
        self.transport = transport
        self.lowPort = lowPort
        self.highPort = high
    }

    /// Parses `tcp/22` or `udp/5000-5010` (lowercase protocol, decimal ports without leading zeros); nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let transport = Transport(rawValue: String(parts[0])) else { return nil }
        let range = parts[1].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = Self.port(range[0]) else { return nil }
        let high = range.count == 2 ? Self.port(range[1]) : low
        guard let high else { return nil }
        self.init(transport: transport, lowPort: low, highPort: high)
    }

    private static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), text.first != "0" else { return nil }
        return UInt16(text)
    }

    /// Whether `port` of `transport` falls in this rule.
    public func contains(_ transport: Transport, port: UInt16) -> Bool {
        transport == self.transport && port >= lowPort && port <= highPort
    }

    /// `tcp/22` or `tcp/8000-8099`.
    public var description: String {
        lowPort == highPort ? "\(transport.rawValue)/\(lowPort)" : "\(transport.rawValue)/\(lowPort)-\(highPort)"
    }

    public static func < (lhs: PortRule, rhs: PortRule) -> Bool {
        (lhs.transport, lhs.lowPort, lhs.highPort) < (rhs.transport, rhs.lowPort, rhs.highPort)
    }
}
