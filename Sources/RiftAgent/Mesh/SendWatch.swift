/// When this side last sent anything to the peer, so that it never stays quiet long enough for the peer's
/// `ReceiveWatch` to suspect a working path, and so that the peer's data gets an answer within a read or two.
///
/// A one-second persistent keepalive does not guarantee a packet a second: WireGuard restarts that timer on every
/// packet it *receives* too, so on an idle tunnel one side's keepalives can keep pushing the other's back (gaps of
/// about two seconds on an idle lab tunnel), and a side that only receives (one-way traffic) may send nothing for up
/// to 10 s (WireGuard's passive keepalive). So when the sent counter stood still for `quietLimit`, the agent asks
/// WireGuard for one keepalive (`MeshAction.sendKeepalive`); the peer then hears from us at least every ~1.25 s plus
/// one read, inside its 2.75 s quiet-traffic suspicion deadline (the lab's idle tunnels: 1.2 s at most, against
/// 2.0 s with WireGuard's timer alone).
///
/// And when the peer's *data* arrived (a counter step larger than `dataBytes`: more than keepalives) and this side
/// sent nothing after it, the agent answers with a keepalive at that read or the next, at most once per
/// `answerInterval`. So a peer that starts sending into an idle tunnel hears back within about half a second from a
/// live path, whatever the traffic is: that is what lets its `ReceiveWatch` suspect a cut 1.25 s after the traffic
/// starts instead of waiting out the idle tunnel's keepalive rhythm. Keepalives are never data, so two sides never
/// answer each other's answers.
struct SendWatch: Sendable {
    /// How long the sent counter may stand still before a keepalive is asked for, in milliseconds.
    static let quietLimit: Int64 = 1_000
    /// The least time between two answers to the peer's data, in milliseconds.
    static let answerInterval: Int64 = 500
    /// A counter step of more than this many bytes between two reads is data. WireGuard counts a keepalive as 32 bytes
    /// (16 of header, 16 of authentication tag) and the smallest data packet as 64 (a 20-byte IP header padded to 32),
    /// so more than 64 is data (a ping is 128, a TCP acknowledgement 96), and two keepalives in one read are not.
    static let dataBytes: UInt64 = 64

    private var lastSent: UInt64?
    private var lastReceived: UInt64?
    /// When the sent counter last advanced (or a keepalive was asked for).
    private(set) var sentAt: Int64
    /// Whether the peer's data arrived and nothing was sent after it yet.
    private var owesAnswer = false
    /// When the last answer was asked for.
    private var answeredAt: Int64 = .min / 2

    init(now: Int64) { sentAt = now }

    /// Whether a counter step from `previous` to `current` carries data (not only keepalives).
    static func isData(from previous: UInt64?, to current: UInt64) -> Bool {
        guard let previous, current > previous else { return false }
        return current - previous > dataBytes
    }

    /// Records the counters read at `now`; returns whether a keepalive is due (then counts it as sent, so at most one
    /// is asked for per `quietLimit`, and one answer per `answerInterval`). Nil counters prove nothing and ask for
    /// nothing.
    mutating func keepaliveDue(_ counters: TrafficCounters?, now: Int64) -> Bool {
        guard let counters else { return false }
        defer {
            lastSent = counters.sent
            lastReceived = counters.received
        }
        let dataArrived = Self.isData(from: lastReceived, to: counters.received)
        guard let lastSent, counters.sent == lastSent else {
            // Something went out on this read, after any data owed before it. Data that came in on the same read may
            // have come after it: keep owing that.
            owesAnswer = dataArrived
            sentAt = now
            return false
        }
        if dataArrived { owesAnswer = true }
        if owesAnswer, now - answeredAt >= Self.answerInterval {
            owesAnswer = false
            answeredAt = now
            sentAt = now
            return true
        }
        guard now - sentAt >= Self.quietLimit else { return false }
        sentAt = now
        return true
    }
}
