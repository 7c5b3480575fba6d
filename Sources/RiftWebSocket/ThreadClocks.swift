#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The two clocks a service pass is timed with, in nanoseconds: CLOCK_MONOTONIC (the same clock as Python's
/// `time.monotonic_ns`, so a benchmark can line passes up with its own samples) and the calling thread's CPU time.
enum ThreadClocks {
    /// CLOCK_MONOTONIC now (a vDSO call, ~20 ns).
    static func monotonicNanoseconds() -> UInt64 { read(CLOCK_MONOTONIC) }

    /// The calling thread's CPU time so far (a system call, a few hundred ns).
    static func threadCPUNanoseconds() -> UInt64 { read(CLOCK_THREAD_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        // Cannot fail for these clocks on Linux; a zero reads as "no time passed".
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
