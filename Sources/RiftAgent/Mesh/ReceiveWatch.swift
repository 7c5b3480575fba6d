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
/// (which libnice 0.1.21 declares lost only after a fixed 10 s) would say so. The runtime reads the counters every
/// 250 ms (`AgentCore.tickMilliseconds`).
///
/// Both agents give every peer a one-second persistent keepalive, and ask WireGuard for one more whenever they sent
/// nothing for a second (`SendWatch`), so a working path brings a packet at least every ~1.25 s from the peer even
/// when the tunnel carries no traffic or traffic one way only. Silence counts only while this side sends: without
/// sending (keepalive not on yet, or counters unknown) there is nothing to conclude.
///
/// Two levels. *Suspect*: nothing arrived for `suspicionAfter`, which is short (500 ms) when the traffic before the
/// silence went both ways on every read and this side still sent on the first read of the silence (pings, TCP, a
/// call: a live path would have answered on one of those reads), and 2.75 s otherwise (an idle or one-way tunnel, where only keepalives
/// arrive, at most ~1.25 s apart plus a read); or nothing arrived for `answerDeadline(now:)` (1.25 s, or the slowest answer
/// of the last minute or two plus 500 ms, up to 2.75 s) after this side sent data into the silence, and sent data again
/// at least 500 ms later that waited 750 ms (`dataUnanswered(now:)`: one lost answer is not a cut), since a live peer
/// answers data within about half a second (`SendWatch`: a read to see it, a read at most to answer, and one more here
/// to see the answer, 750 ms and the path's round trip at worst). That last
/// rule is what catches a cut that comes as traffic starts on an idle tunnel, where the last keepalive may be 1.25 s
/// old already. A suspected path is not left yet: the controlling side starts a
/// relay-only generation beside it and keeps the old path if it speaks again before the relay is ready
/// (PeerSession+Suspicion). *Dead*: nothing for `silenceDeadline` (3 s), the rule where no relay can be prepared (no
/// TURN, a relayed path, the controlled side).
struct ReceiveWatch: Sendable {
    /// How long nothing may arrive, while we send, before the path counts as dead, in milliseconds: one lost keepalive
    /// and a late one (up to 2.5 s) plus a read, so a lossy link is not a dead one (2 s until a 5 % loss measurement
    /// showed single losses reaching it).
    static let silenceDeadline: Int64 = 3_000
    /// How long nothing may arrive before the path is suspected, in milliseconds: after two-way traffic on every one
    /// of the last `busyReads` reads, and otherwise (past one lost keepalive, as the dead-path deadline).
    static let suspicionAfter: (busy: Int64, quiet: Int64) = (500, 2_750)
    /// How many consecutive reads with both counters advancing make the traffic "busy".
    static let busyReads = 4
    /// How long the peer may leave data this side sent unanswered before the path is suspected, in milliseconds,
    /// counted from the read that saw the data go out after the last packet arrived: at least this, and more on a
    /// path whose answers came slowly in the last minute or two (`answerDeadline(now:)`).
    static let minimumAnswerDeadline: Int64 = 1_250
    /// The margin over the slowest recent answer, in milliseconds.
    static let answerMargin: Int64 = 500
    /// How long nothing may arrive, while we send, before the path is probed on every read (`isProbeDue(now:)`), in
    /// milliseconds: past the longest gap a working path leaves between the peer's packets (~1.25 s and a read).
    static let probeAfter: Int64 = 1_750
    /// How long after the first data sent into a silence the second one counts, in milliseconds: the peer answers
    /// data at most once per 500 ms (`SendWatch`).
    static let secondDataGap: Int64 = 500

    private var last: TrafficCounters?
    /// When the received counter last advanced, or the watch (re)started.
    private(set) var receivedAt: Int64
    /// Whether the sent counter advanced since `receivedAt`.
    private var sentSinceReceived = false
    /// Consecutive reads on which both counters advanced.
    private var busyStreak = 0
    /// Whether the traffic was busy when the received counter last advanced, and this side still sent on the first
    /// read after it: the current silence, if any, cut busy traffic short.
    private var busyBeforeSilence = false
    /// Reads since the received counter last advanced.
    private var silentReads = 0
    /// The read that first saw data go out (`SendWatch.isData`) on a read without a packet in, since the last packet
    /// arrived: that data was sent after it, and a live peer answers it. Nil when there is none.
    private var dataSentAt: Int64?
    /// The first read at least `secondDataGap` after `dataSentAt` that saw data go out, still without a packet in: a
    /// second chance for the peer's answer, so one lost packet on a lossy link (a ping's answer, say, with the next
    /// ping a second later) is not taken for a cut. Nil when there is none yet.
    private var secondDataSentAt: Int64?
    /// How long data sent into a silence waited for the next packet in, the slowest lately: a slow round trip (a
    /// satellite link, a congested uplink) raises the answer deadline instead of getting a live path suspected.
    private var answerDelays = RecentMaximum(window: 60_000)

    init(now: Int64) { receivedAt = now }

    /// Starts afresh, as if something had just arrived (a new path was configured: give it its own deadline and learn
    /// its traffic again).
    mutating func restart(now: Int64) {
        receivedAt = now
        sentSinceReceived = false
        busyStreak = 0
        busyBeforeSilence = false
        silentReads = 0
        dataSentAt = nil
        secondDataSentAt = nil
    }

    /// Records the counters read at `now` (nil: WireGuard reported none for the peer, which proves nothing).
    mutating func observe(_ counters: TrafficCounters?, now: Int64) {
        guard let counters else { return }
        defer { last = counters }
        guard let previous = last else { return restart(now: now) }
        // A counter that went backwards means the peer was removed and added again: a new start, not silence.
        if counters.received < previous.received || counters.sent < previous.sent { return restart(now: now) }
        let received = counters.received > previous.received
        let sent = counters.sent > previous.sent
        busyStreak = received && sent ? min(busyStreak + 1, Self.busyReads) : 0
        if received {
            if let dataSentAt { answerDelays.record(now - dataSentAt, now: now) }
            receivedAt = now
            sentSinceReceived = false
            silentReads = 0
            busyBeforeSilence = busyStreak >= Self.busyReads
            dataSentAt = nil
            secondDataSentAt = nil
            return
        }
        silentReads += 1
        if sent {
            sentSinceReceived = true
            if SendWatch.isData(from: previous.sent, to: counters.sent) {
                if let first = dataSentAt {
                    if secondDataSentAt == nil, now - first >= Self.secondDataGap { secondDataSentAt = now }
                } else {
                    dataSentAt = now
                }
            }
        } else if silentReads == 1 {
            // Both sides stopped together (the pings ended): what follows is the keepalives' rhythm, not a cut. A later
            // read without sending (TCP backing off after a cut) does not undo a silence that began while we sent.
            busyBeforeSilence = false
        }
    }

    /// How long nothing arrived although this side sent, in milliseconds (0 when it did not send).
    func silence(now: Int64) -> Int64 { sentSinceReceived ? max(0, now - receivedAt) : 0 }

    /// The silence after which the path is suspected, given the traffic before it.
    var suspicionDeadline: Int64 { busyBeforeSilence ? Self.suspicionAfter.busy : Self.suspicionAfter.quiet }

    /// How long data this side sent into the silence has gone unanswered, in milliseconds (0 when none was sent).
    func unanswered(now: Int64) -> Int64 { dataSentAt.map { max(0, now - $0) } ?? 0 }

    /// Why the path is suspected, for the log and status: the silence, and the unanswered data if any.
    func suspicionSummary(now: Int64) -> String {
        let unanswered = unanswered(now: now)
        return "WireGuard received nothing for \(silence(now: now)) ms while sending"
            + (unanswered > 0 ? " (data unanswered for \(unanswered) ms)" : "")
    }

    /// How long data sent into a silence may go unanswered now: 1.25 s, or the slowest recent answer plus 500 ms,
    /// never more than the quiet deadline (past it, that rule is the stricter one anyway).
    func answerDeadline(now: Int64) -> Int64 {
        min(Self.suspicionAfter.quiet, max(Self.minimumAnswerDeadline, answerDelays.value(now: now) + Self.answerMargin))
    }

    /// Whether the path is suspected: silent long enough to prepare another path, not yet to give this one up.
    func isSuspect(now: Int64) -> Bool {
        silence(now: now) >= suspicionDeadline || dataUnanswered(now: now)
    }

    /// The data rule: the first data sent into the silence unanswered for `answerDeadline(now:)`, and data sent at
    /// least `secondDataGap` after it unanswered for that deadline less its margin (750 ms at least: a read to see
    /// it, a read to answer, a read to see the answer). Under steady traffic (pings every 200 ms, TCP) the second
    /// send comes 500 ms after the first, so the rule fires at 1.25 s as with one send; with a packet a second, one
    /// lost answer is followed by the next exchange instead of a suspicion.
    private func dataUnanswered(now: Int64) -> Bool {
        guard let secondDataSentAt else { return false }
        let deadline = answerDeadline(now: now)
        return unanswered(now: now) >= deadline && now - secondDataSentAt >= deadline - Self.answerMargin
    }

    /// Whether the path is dead by this signal.
    func isDead(now: Int64) -> Bool { silence(now: now) >= Self.silenceDeadline }

    /// Whether to send the peer a probe it answers (`MeshAction.probePath`) on this read: the silence is past
    /// `probeAfter` and not yet at the dead-path deadline. On a lossy link, the peer's one packet a second can be lost
    /// twice in a row (at 5 % loss each way with a ping a second, the lossy-link test met it in about one CI run in ten); each probe is another packet
    /// that a live path answers at once, so a silence that is only loss ends before the 2.75 s suspicion, while a cut
    /// is suspected no later than before. At most five probes per silence; none while this side sends nothing.
    func isProbeDue(now: Int64) -> Bool {
        let silence = silence(now: now)
        return silence >= Self.probeAfter && silence < Self.silenceDeadline
    }
}
