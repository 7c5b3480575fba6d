/// How a TURN client reaches its server (RFC 7065): UDP, TCP, or TLS over TCP (`turns:`).
public enum TURNTransport: String, Sendable, Hashable, Codable, CaseIterable {
    case udp, tcp, tls
}

/// Where a TURN probe goes: the host, port and client transport of one `turn:`/`turns:` URI.
public struct TURNServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A DNS name or IP literal (an IPv6 literal without brackets).
    public var host: String
    /// The port (3478 for `turn:`, 5349 for `turns:` when the URI names none).
    public var port: UInt16
    /// The client transport.
    public var transport: TURNTransport

    /// `host:port` (`[v6]:port`) for UDP, the `server` label of the hub's TURN check metrics; `host:port/tcp` or
    /// `host:port/tls` for the others.
    public var description: String {
        let base = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return transport == .udp ? base : "\(base)/\(transport.rawValue)"
    }

    /// The address of `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]` (`ICEServerURI`),
    /// if its transport is among `transports` (UDP only by default, what the hub's check probes); nil for any other URI
    /// or transport.
    public init?(url: String, transports: Set<TURNTransport> = [.udp]) {
        guard let uri = ICEServerURI(url), uri.scheme != .stun, transports.contains(uri.transport) else { return nil }
        host = uri.host
        port = uri.port
        transport = uri.transport
    }
}
