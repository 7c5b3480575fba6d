import RiftProtocol

extension ICEServerList {
    /// The numeric addresses of the hub (from the `hub` URL, `wss://host[:port]`) and of the STUN and TURN servers the
    /// hub announced: the servers an exit node must never carry this machine's traffic to (`ExitRouting.exempt`).
    /// Resolved when called (at each welcome), every address of each name.
    static func underlayServers(hub: String, ice: ICEServers) -> [String] {
        var hosts: [String] = []
        if let host = hubHost(hub) { hosts.append(host) }
        hosts += ice.stun.compactMap(parse).map(\.host)
        hosts += ice.turn.flatMap(\.urls).compactMap(parse).map(\.host)
        return Array(Set(hosts.flatMap(resolveAll))).sorted()
    }

    /// The host of a `ws://` or `wss://` URL: `hub.example.org` of `wss://hub.example.org:8443/`, `::1` of
    /// `ws://[::1]:8080`.
    static func hubHost(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        var authority = url[scheme.upperBound...]
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = authority[authority.index(after: authority.startIndex)..<close]
            return host.isEmpty ? nil : String(host)
        }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return authority.isEmpty ? nil : String(authority)
    }
}
