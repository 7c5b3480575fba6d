/// Receives everything that happens on a `WebSocketServer`.
///
/// Every method is called on the server's single service thread, one at a time and in the
/// order the events happened, so a handler needs no locking for state only these methods touch.
/// Methods must return quickly: while one runs, no other connection is served. They may call
/// `WebSocketServer.send` and `close` (which only queue work and never block).
public protocol WebSocketServerHandler: AnyObject, Sendable {
    /// A client completed the WebSocket handshake. `request` carries its path and headers.
    func connectionOpened(_ id: ConnectionID, request: UpgradeRequest)

    /// A complete text message arrived (fragments already reassembled, UTF-8 already validated).
    func connection(_ id: ConnectionID, received text: String)

    /// The client sent a message larger than `Configuration.maximumMessageBytes`; it was dropped.
    /// Right after this returns the server closes the connection with 1009, after flushing
    /// whatever the handler queued (for example an error frame) during this call.
    func connectionSentOversizedMessage(_ id: ConnectionID)

    /// The connection's outbound queue went over its message or byte limit (the client reads too
    /// slowly). Queued messages were discarded and the connection is being closed with 1008;
    /// `connectionClosed` follows. Optional: the default does nothing.
    func connectionOverflowedOutboundQueue(_ id: ConnectionID)

    /// The connection is gone, whatever the cause (client close, server close, heartbeat
    /// timeout, network error, shutdown). Called exactly once for every opened connection;
    /// `send` to this id is ignored from now on.
    func connectionClosed(_ id: ConnectionID)

    /// The same event with its cause, for handlers that report why peers left. Optional: the default
    /// calls `connectionClosed(_:)`; implement one of the two.
    func connectionClosed(_ id: ConnectionID, cause: ConnectionCloseCause)

    /// Answers a plain HTTP `GET` on the WebSocket port (e.g. `/healthz`, `/metrics`).
    /// `path` excludes the query string. Return nil for 404.
    func httpRequest(path: String) -> HTTPResponse?

    /// A connection was closed as soon as it was accepted, before any of its bytes was read (`AcceptGuard`): it never
    /// reaches `connectionOpened`. Called for every such connection, so a flood makes many calls: count, do not log
    /// each. Optional: the default does nothing.
    func connectionRefused(_ refusal: ConnectionRefusal)

    /// Called every `Configuration.tickInterval` while the server runs.
    func tick()

    /// One pass of the service loop ended: every event it read was handed over (the handler may finish work it
    /// gathered over the pass, such as committing its writes, and send what waited for that). Called once more after
    /// the loop stopped and the remaining connections were reported closed (sends are dropped by then). Optional:
    /// the default does nothing.
    func servicePassEnded()
}

/// Why a server connection ended.
public enum ConnectionCloseCause: String, Sendable, Hashable {
    /// The client sent a close frame.
    case closedByClient
    /// The server closed it (`close`, an oversized or binary message, a full queue, shutdown).
    case closedByServer
    /// Nothing, not even a pong, arrived for `pongTimeout`: the heartbeat dropped it.
    case heartbeatTimeout
    /// The transport failed without a close frame (reset, network error).
    case lost
}

/// Why a server closed a connection as soon as it accepted it.
public enum ConnectionRefusal: Sendable, Hashable {
    /// The server held as many sockets as the process' open-file limit allows, less a reserve for its other files.
    case atCapacity
    /// The client's address (an IPv4 address, or an IPv6 /64, as text) already had
    /// `Configuration.maximumPendingConnectionsPerAddress` connections that had not finished their WebSocket upgrade.
    case tooManyPending(from: String)
}

extension WebSocketServerHandler {
    /// Does nothing.
    public func connectionRefused(_ refusal: ConnectionRefusal) {}

    /// Calls `connectionClosed(_:)`.
    public func connectionClosed(_ id: ConnectionID, cause: ConnectionCloseCause) { connectionClosed(id) }

    /// Does nothing: `connectionClosed` still follows.
    public func connectionOverflowedOutboundQueue(_ id: ConnectionID) {}

    /// Does nothing.
    public func servicePassEnded() {}
}
