/// Where the TURN check probes: the host and UDP port of one `turn:` URI.
struct TURNServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A DNS name or IP literal (an IPv6 literal without brackets).
    var host: String
    /// The UDP port (3478 when the URI names none).
    var port: UInt16

    /// `host:port` (`[v6]:port`), the `server` label of the check's metrics.
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The address of `turn:host[:port][?transport=udp]`; nil for `turns:` (TLS), `?transport=tcp`, or a URI that
    /// does not parse — the check probes over UDP only.
    init?(url: String) {
        guard url.hasPrefix("turn:") else { return nil }
        var rest = Substring(url.dropFirst("turn:".count))
        if let query = rest.firstIndex(of: "?") {
            let parameters = rest[rest.index(after: query)...].split(separator: "&")
            if let transport = parameters.first(where: { $0.hasPrefix("transport=") }), transport.lowercased() != "transport=udp" {
                return nil
            }
            rest = rest[..<query]
        }
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
            guard let port = UInt16(portText), port != 0 else { return nil }
            self.port = port
        } else {
            port = 3478
        }
    }
}
