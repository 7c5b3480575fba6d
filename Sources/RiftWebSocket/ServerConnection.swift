/// The service thread's state for one open WebSocket connection of a server.
final class ServerConnection {
    /// The id the handler knows the connection by.
    let id: ConnectionID
    /// The connection's `struct lws *`; valid until its close callback.
    let wsi: OpaquePointer
    /// Messages waiting to be written.
    var outbound: OutboundQueue
    /// Reassembles incoming fragments.
    var inbound: MessageAssembler
    /// Frames the client may still send (every payload piece counts, empty ones too).
    var frameBudget: FrameBudget
    /// False once the connection was condemned (oversized or binary message, close requested):
    /// later input is dropped instead of reaching the handler.
    var deliversInput = true
    /// Set when the connection should close once `outbound` is flushed.
    var pendingClose: CloseFrame?
    /// An oversized message is being read to its end before the connection is closed with this frame: closing while
    /// the client is still writing makes the kernel reset the connection, and the reset can destroy the error frame.
    var closeAfterDiscarding: CloseFrame?
    /// Bytes of the rejected message read so far; past a limit the connection closes at once.
    var discardedBytes = 0
    /// When the client was last heard from (any frame, pongs included), to tell a heartbeat timeout apart.
    var lastHeardFrom = ContinuousClock.now
    /// A heartbeat ping should be written at the next WRITEABLE callback.
    var pingDue = false
    /// When the heartbeat last sent a ping.
    var lastPingSent: ContinuousClock.Instant?
    /// The first ping sent since the peer was last heard from: the time it has had to answer (re-pings every
    /// `pingInterval` must not restart that clock).
    var firstUnansweredPing: ContinuousClock.Instant?
    /// The heartbeat gave up on the connection (silent for the pong timeout); it is being dropped.
    var droppedSilent = false
    /// Whether the client sent a close frame.
    var closedByPeer = false
    /// Its group for the fair share of writes (`FairWriteScheduler`): the path it upgraded on.
    let group: Int
    /// The scheduler's pass in which it was last armed for writing.
    var armedPass: UInt64 = 0
    /// Waiting in the scheduler for a later pass to be armed.
    var isPostponed = false

    init(id: ConnectionID, wsi: OpaquePointer, group: Int, outbound: OutboundQueue, inbound: MessageAssembler,
         frameBudget: FrameBudget) {
        self.id = id
        self.wsi = wsi
        self.group = group
        self.outbound = outbound
        self.inbound = inbound
        self.frameBudget = frameBudget
    }
}
