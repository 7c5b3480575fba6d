#if canImport(Glibc)
import Glibc
#endif

/// Where the routing core reads the time. The hub uses `SystemHubClock`; tests move a manual clock.
public protocol HubClock: AnyObject {
    /// Seconds since the Unix epoch, for stored timestamps and credential expiry.
    func unixSeconds() -> Int64
    /// Seconds on a monotonic clock, for rate limits and timeouts; unaffected by wall-clock changes.
    func monotonicSeconds() -> Double
    /// Milliseconds since the Unix epoch, for ordering session claims across hubs.
    func unixMilliseconds() -> Int64
}

extension HubClock {
    /// `unixSeconds()` in milliseconds, for clocks without a finer reading.
    public func unixMilliseconds() -> Int64 { unixSeconds() * 1000 }
}

/// The system's wall clock and monotonic clock.
public final class SystemHubClock: HubClock {
    /// Creates the system clock.
    public init() {}

    public func unixSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    public func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    public func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
