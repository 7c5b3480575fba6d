#if canImport(Glibc)
import Glibc
#endif

/// Tells that the agent did not run for a while — the machine was suspended, or the process stopped — from the gap
/// between two consecutive observations of the boot-time clock, which keeps counting during suspend (unlike
/// CLOCK_MONOTONIC, which stops, so that a monotonic timer cannot notice a suspend at all).
///
/// The runtime observes it on every tick (four times a second); a gap far longer than that means every path and the hub
/// session may be stale: NAT mappings expired, the hub dropped us, peers moved on.
struct ResumeDetector {
    /// A gap at least this long counts as a resume.
    let threshold: Duration
    private var last: Duration?

    init(threshold: Duration = .seconds(4)) {
        self.threshold = threshold
    }

    /// Records an observation of the boot-time clock; returns how long the agent was away when the gap since the
    /// previous observation reaches the threshold.
    mutating func observe(_ now: Duration) -> Duration? {
        defer { last = now }
        guard let last, now - last >= threshold else { return nil }
        return now - last
    }

    /// CLOCK_BOOTTIME now.
    static func bootClock() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }
}
