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

    /// The address of `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]`, if its transport is
    /// among `transports` (UDP only by default, what the hub's check probes); nil for any other URI or transport.
    public init?(url: String, transports: Set<TURNTransport> = [.udp]) {
        var rest: Substring
        var transport: TURNTransport
        var port: UInt16
        if url.hasPrefix("turn:") {
            rest = Substring(url.dropFirst("turn:".count))
            transport = .udp
            port = 3478
        } else if url.hasPrefix("turns:") {
            rest = Substring(url.dropFirst("turns:".count))
            transport = .tls
            port = 5349
        } else {
            return nil
        }
        if let query = rest.firstIndex(of: "?") {
            let parameters = rest[rest.index(after: query)...].split(separator: "&")
            if let parameter = parameters.first(where: { $0.hasPrefix("transport=") }) {
                switch parameter.lowercased() {
                case "transport=udp" where transport == .udp: break
                case "transport=tcp": if transport == .udp { transport = .tcp }
                default: return nil
                }
            }
            rest = rest[..<query]
        }
        guard transports.contains(transport) else { return nil }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let end = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<end])
            let after = rest[rest.index(after: end)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = String(parts[0])
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let value = UInt16(portText), value != 0 else { return nil }
            port = value
        }
        self.port = port
        self.transport = transport
    }
}
