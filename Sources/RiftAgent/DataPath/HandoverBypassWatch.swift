import RiftSupport

/// The receive handler of a handed-over ICE session. While the pair is handed over, the peer's WireGuard datagrams
/// from the selected remote candidate go to WireGuard (the prerouting rule) and never reach the ICE agent; a datagram
/// that does reach it came on another pair — the peer's ICE agent selected a different one — and would be dropped.
/// The watch reports the first such datagram once, so the mesh can forward the generation instead
/// (`PeerSession.handoverBypassed`). Datagrams in the first `grace` milliseconds are ignored: they may have been
/// queued on the ICE socket before the rules were installed.
final class HandoverBypassWatch: Sendable {
    /// How long after the hand-over began datagrams through the ICE agent are not taken as a bypass, in milliseconds.
    static let grace: Int64 = 250

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

    /// One datagram of the peer arrived through the ICE agent.
    func received() {
        guard clock.milliseconds() - since >= Self.grace else { return }
        let first = reported.withLock { reported in
            defer { reported = true }
            return !reported
        }
        if first { report() }
    }
}
