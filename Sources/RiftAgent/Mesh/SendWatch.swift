/// When this side last sent anything to the peer, so that it never stays quiet long enough for the peer's
/// `ReceiveWatch` to suspect a working path.
///
/// A one-second persistent keepalive does not guarantee a packet a second: WireGuard restarts that timer on every
/// packet it *receives* too, so on an idle tunnel one side's keepalives can keep pushing the other's back (gaps of
/// about two seconds on an idle lab tunnel), and a side that only receives (one-way traffic) may send nothing for up
/// to 10 s (WireGuard's passive keepalive). So when the sent counter stood still for `quietLimit`, the agent asks
/// WireGuard for one keepalive (`MeshAction.sendKeepalive`); the peer then hears from us at least every ~1.25 s plus
/// one read, inside its 1.75 s quiet-traffic suspicion deadline (the lab's idle tunnels: 1.2 s at most, against
/// 2.0 s with WireGuard's timer alone).
struct SendWatch: Sendable {
    /// How long the sent counter may stand still before a keepalive is asked for, in milliseconds.
    static let quietLimit: Int64 = 1_000

    private var lastSent: UInt64?
    /// When the sent counter last advanced (or a keepalive was asked for).
    private(set) var sentAt: Int64

    init(now: Int64) { sentAt = now }

    /// Records the counters read at `now`; returns whether a keepalive is due (then counts it as sent, so at most one
    /// is asked for per `quietLimit`). Nil counters prove nothing and ask for nothing.
    mutating func keepaliveDue(_ counters: TrafficCounters?, now: Int64) -> Bool {
        guard let counters else { return false }
        defer { lastSent = counters.sent }
        guard let lastSent, counters.sent == lastSent else {
            sentAt = now
            return false
        }
        guard now - sentAt >= Self.quietLimit else { return false }
        sentAt = now
        return true
    }
}
