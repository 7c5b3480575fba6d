/// One `stun:`, `turn:` or `turns:` URI as the hub announces them (RFC 7064, RFC 7065): the one parser of such URIs,
/// for the agent's ICE servers, `riftgate netcheck` and the hub's TURN check.
public struct ICEServerURI: Sendable, Hashable {
    /// The URI scheme.
    public enum Scheme: String, Sendable, Hashable {
        case stun, turn, turns
    }

    /// Its scheme.
    public var scheme: Scheme
    /// A DNS name or IP literal (an IPv6 literal without brackets).
    public var host: String
    /// The port (3478 for `stun:` and `turn:`, 5349 for `turns:` when the URI names none).
    public var port: UInt16
    /// How a client reaches the server: UDP for `stun:`, UDP or TCP (`?transport=tcp`) for `turn:`, TLS for `turns:`.
    public var transport: TURNTransport

    /// Creates a URI from its parts.
    public init(scheme: Scheme, host: String, port: UInt16, transport: TURNTransport = .udp) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.transport = transport
    }

    /// Parses `stun:host[:port][?transport=udp]`, `turn:host[:port][?transport=udp|tcp]` or
    /// `turns:host[:port][?transport=tcp]` (hosts: a name, an IPv4 literal or a bracketed IPv6 literal); nil for any
    /// other scheme or transport, an empty host or a port outside 1-65535.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let scheme = Scheme(rawValue: String(text[..<colon])) else { return nil }
        var rest = text[text.index(after: colon)...]
        var transport: TURNTransport = scheme == .turns ? .tls : .udp
        if let query = rest.firstIndex(of: "?") {
            let parameters = rest[rest.index(after: query)...].split(separator: "&")
            if let parameter = parameters.first(where: { $0.hasPrefix("transport=") }) {
                switch parameter.dropFirst("transport=".count).lowercased() {
                case "udp" where scheme != .turns: break
                case "tcp" where scheme != .stun: if scheme == .turn { transport = .tcp }
                default: return nil
                }
            }
            rest = rest[..<query]
        }
        guard let (host, port) = Self.hostAndPort(rest) else { return nil }
        self.init(scheme: scheme, host: host, port: port ?? (scheme == .turns ? 5349 : 3478), transport: transport)
    }

    /// `host[:port]` or `[v6][:port]`; nil when malformed, the port nil when absent.
    private static func hostAndPort(_ text: Substring) -> (String, UInt16?)? {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let end = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<end]
            let after = text[text.index(after: end)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty else { return nil }
        guard let portText else { return (String(host), nil) }
        guard let port = UInt16(portText), port != 0 else { return nil }
        return (String(host), port)
    }
}
