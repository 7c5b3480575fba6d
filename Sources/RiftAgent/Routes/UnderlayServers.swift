import RiftProtocol
import RiftWebSocket

extension ICEServerList {
    /// The numeric addresses of every configured hub (from the `hub` URLs, `wss://host[:port]`: not only the one
    /// connected, so that the agent can still move to another hub of the cluster while an exit node carries its
    /// traffic) and of the STUN and TURN servers the hub announced: the servers an exit node must never carry this
    /// machine's traffic to (`ExitRouting.exempt`). Resolved when called (at each welcome), every address of each name.
    static func underlayServers(hubs: [String], ice: ICEServers) -> [String] {
        var hosts = hubs.compactMap(hubHost)
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
