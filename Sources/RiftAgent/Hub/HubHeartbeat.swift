/// How often the agent pings its hub and how long it waits for a pong before it calls the connection lost.
///
/// The agent's own is a ping every 20 s and 60 s without a pong. A hub that pings more often (its welcome's
/// `heartbeat_seconds`, PROTOCOL.md §3) is followed: its agents then notice a silent hub as fast as it notices a
/// silent agent, three of its intervals. A hub that pings less often does not slow the agent down.
struct HubHeartbeat: Equatable {
    let pingInterval: Duration
    let pongTimeout: Duration

    /// The agent's own heartbeat (also `WebSocketClientConfiguration`'s defaults).
    static let agentDefault = HubHeartbeat(pingInterval: .seconds(20), pongTimeout: .seconds(60))

    /// The heartbeat for a hub that announced `hubSeconds`: a ping every min(`hubSeconds`, 20 s), hang up after
    /// three of those intervals without a pong.
    static func following(hubSeconds: Int64) -> HubHeartbeat {
        let ping = min(max(hubSeconds, 1), 20)
        return HubHeartbeat(pingInterval: .seconds(ping), pongTimeout: .seconds(3 * ping))
    }
}
