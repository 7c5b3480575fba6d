/// WireGuard's byte counters for one peer, as the runtime reads them on every tick.
public struct TrafficCounters: Sendable, Hashable {
    /// Bytes received from the peer.
    public var received: UInt64
    /// Bytes sent to the peer.
    public var sent: UInt64

    /// Counters as WireGuard reports them.
    public init(received: UInt64, sent: UInt64) {
        self.received = received
        self.sent = sent
    }
}

/// Whether the path WireGuard uses still delivers: the data-plane signal of a dead path, seconds before ICE consent
/// (which libnice 0.1.21 declares lost only after a fixed 10 s) would say so.
///
/// Both agents give every peer a one-second persistent keepalive, so a working path brings at least one packet a
/// second from the peer even when the tunnel carries no traffic. A path is dead when nothing arrived for
/// `silenceDeadline` while this side kept sending. A silent tunnel is not a dead one: without sending (keepalive not
/// on yet, or counters unknown) there is nothing to conclude, and a tunnel whose keepalives arrive never goes silent.
struct ReceiveWatch: Sendable {
    /// How long nothing may arrive, while we send, before the path counts as dead, in milliseconds: two keepalive
    /// intervals, so one late or lost keepalive (or a tick that ran late on a busy machine) is not a failure.
    static let silenceDeadline: Int64 = 2_000

    private var last: TrafficCounters?
    /// When the received counter last advanced, or the watch (re)started.
    private(set) var receivedAt: Int64
    /// Whether the sent counter advanced since `receivedAt`.
    private var sentSinceReceived = false

    init(now: Int64) { receivedAt = now }

    /// Starts afresh, as if something had just arrived (a new path was configured: give it its own deadline).
    mutating func restart(now: Int64) {
        receivedAt = now
        sentSinceReceived = false
    }

    /// Records the counters read at `now` (nil: WireGuard reported none for the peer, which proves nothing).
    mutating func observe(_ counters: TrafficCounters?, now: Int64) {
        guard let counters else { return }
        defer { last = counters }
        guard let previous = last else { return restart(now: now) }
        // A counter that went backwards means the peer was removed and added again: a new start, not silence.
        if counters.received < previous.received || counters.sent < previous.sent { return restart(now: now) }
        if counters.received > previous.received {
            restart(now: now)
        } else if counters.sent > previous.sent {
            sentSinceReceived = true
        }
    }

    /// How long nothing arrived although this side sent, in milliseconds (0 when it did not send).
    func silence(now: Int64) -> Int64 { sentSinceReceived ? max(0, now - receivedAt) : 0 }

    /// Whether the path is dead by this signal.
    func isDead(now: Int64) -> Bool { silence(now: now) >= Self.silenceDeadline }
}
