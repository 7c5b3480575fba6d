import RiftSupport

/// The gate of a handed-over ICE session's standby forwarding socket. While the pair is handed over, the peer's
/// WireGuard datagrams from the selected remote candidate go to WireGuard (the prerouting rule) and never reach the
/// ICE agent; a datagram that does reach it came on another pair (the peer's ICE agent selected a different one, or
/// is switching pairs) or was queued on the ICE socket before the rules were installed. The watch admits every such
/// datagram to WireGuard through the standby socket, so none is lost (WireGuard's endpoint roaming follows it to the
/// loopback socket, whose replies the forwarder carries, and back to the hand-over with the next datagram that comes
/// through the rule), and reports the first one after `grace` milliseconds once, so the mesh forwards the generation
/// (`PeerSession.handoverBypassed`). Datagrams in the first `grace` milliseconds are not reported: leftovers from
/// before the rules, or from the peer's own switch to this pair, which may come seconds later.
final class HandoverBypassWatch: Sendable {
    /// How long after the hand-over began datagrams through the ICE agent are not taken as a bypass, in milliseconds.
    /// The two ICE agents may select different pairs at first and settle on one a moment apart: the controlled side
    /// selects the first nominated pair whose check succeeded, often the relayed one, and moves when its check of a
    /// better pair succeeds, a round trip or a retransmission later (a second behind over a 1.2 s round trip in the
    /// slow-link lab; "within a few seconds" in the hard-NAT lab). Nothing is lost meanwhile (every datagram is
    /// admitted), so the grace only keeps such a switch from forwarding the whole generation.
    static let grace: Int64 = 5_000

    private let clock: any AgentClock
    private let since: Int64
    private let reported = Locked(false)
    private let report: @Sendable () -> Void

    /// A watch for a hand-over that began at `since` (milliseconds on `clock`); `report` runs at most once, on the
    /// ICE thread.
    init(clock: any AgentClock, since: Int64, report: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.since = since
        self.report = report
    }

    /// One datagram of the peer arrived through the ICE agent: whether it goes on to WireGuard (always).
    func admit() -> Bool {
        guard clock.milliseconds() - since >= Self.grace else { return true }
        let first = reported.withLock { reported in
            defer { reported = true }
            return !reported
        }
        if first { report() }
        return true
    }
}
