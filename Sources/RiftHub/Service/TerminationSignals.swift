#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT synchronously with `sigwait`, so shutdown runs as ordinary code on the
/// waiting thread instead of inside a signal handler.
public enum TerminationSignals {
    /// Blocks SIGTERM and SIGINT in the calling thread. Call it before any thread starts: threads inherit
    /// the mask, so the signals then wait for `wait()` instead of killing the process.
    public static func block() {
        var set = signals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits until SIGTERM or SIGINT arrives and returns its number.
    public static func wait() -> Int32 {
        var set = signals()
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    private static func signals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }
}
