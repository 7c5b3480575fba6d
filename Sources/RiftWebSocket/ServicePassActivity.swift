/// What one pass of a server's service loop did: how many callbacks of each kind ran in it, and how long the handler's
/// periodic and end-of-pass work took. Kept for the slow passes (`ServicePassStatistics`), to tell what ran in them.
public struct ServicePassActivity: Sendable, Equatable {
    /// WebSocket connections established (handshakes completed).
    public var accepts: UInt64 = 0
    /// Frame pieces read (lws `RECEIVE` callbacks).
    public var framesRead: UInt64 = 0
    /// Events handed to the handler (connection opened, message, connection closed).
    public var handlerEvents: UInt64 = 0
    /// Writes: messages written at once plus writable callbacks.
    public var writes: UInt64 = 0
    /// Connections that ended.
    public var closes: UInt64 = 0
    /// Commands taken from other threads' inbox (sends, closes, cluster work).
    public var inboxCommands: UInt64 = 0
    /// Timer callbacks: the handler's tick and the heartbeat wheel.
    public var timers: UInt64 = 0
    /// Plain HTTP requests answered.
    public var httpRequests: UInt64 = 0
    /// Nanoseconds in the handler's `tick` (the hub's periodic jobs: change marker, grant recheck, last-seen chunk).
    public var tickNanoseconds: UInt64 = 0
    /// Nanoseconds in the handler's `servicePassEnded` (the hub's database commit and the actions held for it).
    public var passEndNanoseconds: UInt64 = 0

    /// Nothing happened.
    public init() {}

    /// Adds `other`'s counts and durations to these.
    public mutating func add(_ other: ServicePassActivity) {
        accepts &+= other.accepts
        framesRead &+= other.framesRead
        handlerEvents &+= other.handlerEvents
        writes &+= other.writes
        closes &+= other.closes
        inboxCommands &+= other.inboxCommands
        timers &+= other.timers
        httpRequests &+= other.httpRequests
        tickNanoseconds &+= other.tickNanoseconds
        passEndNanoseconds &+= other.passEndNanoseconds
    }

    /// The counts and durations by name, in a fixed order (for metrics pages and logs).
    public var namedFigures: [(name: String, value: UInt64)] {
        [("accepts", accepts), ("frames_read", framesRead), ("handler_events", handlerEvents), ("writes", writes),
         ("closes", closes), ("inbox_commands", inboxCommands), ("timers", timers), ("http_requests", httpRequests),
         ("tick_ns", tickNanoseconds), ("pass_end_ns", passEndNanoseconds)]
    }
}
