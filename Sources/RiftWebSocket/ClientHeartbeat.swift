internal import CRiftWebSockets

/// How a client checks that its server is still there: it pings every `pingSeconds` of silence and drops the
/// connection when `hangupSeconds` pass without a pong or a message (libwebsockets' validity policy, in whole seconds;
/// a ping from the server does not count).
struct ClientHeartbeat: Equatable {
    let pingSeconds: Int
    let hangupSeconds: Int

    /// Checks the durations: both positive, the pong timeout longer than the ping interval in whole seconds. The
    /// error's reason names the field, for the caller to prefix.
    init(pingInterval: Duration, pongTimeout: Duration) throws(WebSocketError) {
        let ping = pingInterval.wholeSecondsRoundedUp
        let hangup = pongTimeout.wholeSecondsRoundedUp
        guard ping > 0 else { throw WebSocketError("pingInterval must be positive") }
        guard hangup > ping else {
            throw WebSocketError("pongTimeout must be longer than pingInterval (in whole seconds)")
        }
        guard hangup <= Int(UInt16.max) else { throw WebSocketError("pongTimeout is too long") }
        pingSeconds = ping
        hangupSeconds = hangup
    }

    /// Writes the policy where lws reads it.
    func write(to policy: UnsafeMutablePointer<lws_retry_bo_t>) {
        policy.pointee.secs_since_valid_ping = UInt16(pingSeconds)
        policy.pointee.secs_since_valid_hangup = UInt16(hangupSeconds)
    }
}
