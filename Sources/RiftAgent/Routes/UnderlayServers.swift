import RiftProtocol
import RiftWebSocket

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

    /// The host of a `ws://` or `wss://` URL, as the agent's WebSocket client reads it (`WebSocketURL`):
    /// `hub.example.org` of `wss://hub.example.org:8443/`, `::1` of `ws://[::1]:8080`; nil for anything it would not
    /// connect to.
    static func hubHost(_ url: String) -> String? {
        (try? WebSocketURL(parsing: url))?.host
    }
}
