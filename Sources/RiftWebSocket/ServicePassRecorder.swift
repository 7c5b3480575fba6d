import RiftSupport

/// Times a server's service loop pass by pass and publishes the figures (`ServicePassStatistics`) to other threads.
///
/// The event wait is bracketed by libev's release and acquire hooks (`EVLoop.observeWaits`), called right before and
/// right after `epoll_wait`: a pass runs from one acquire to the next release, everything the thread does between two
/// waits (lws callbacks, timers, the handler's end-of-pass work). Costs four clock reads and one uncontended lock per
/// pass. `activity` is counted by the loop's callbacks during the pass. Service thread only, except `statistics`.
final class ServicePassRecorder: @unchecked Sendable {
    /// What the current pass did so far.
    var activity = ServicePassActivity()
    private let published: Locked<ServicePassStatistics>
    private var passStartedAt: UInt64 = 0
    private var passCPUStartedAt: UInt64 = 0
    private var waitStartedAt: UInt64 = 0
    private var lastWait: UInt64 = 0
    private var timing = false

    init(statistics: ServicePassStatistics = ServicePassStatistics()) {
        published = Locked(statistics)
    }

    /// A copy of the figures so far; any thread.
    var statistics: ServicePassStatistics { published.withLock { $0 } }

    /// The event wait begins: the pass that ran since the last wait ended is recorded.
    func waitBegins() {
        let now = ThreadClocks.monotonicNanoseconds()
        let cpu = ThreadClocks.threadCPUNanoseconds()
        waitStartedAt = now
        guard timing else {
            timing = true  // the first wait: no pass before it
            activity = ServicePassActivity()
            return
        }
        let pass = activity
        activity = ServicePassActivity()
        let started = passStartedAt, wait = lastWait
        let duration = now &- started, cpuTime = cpu &- passCPUStartedAt
        published.withLock { statistics in
            statistics.recordWait(nanoseconds: wait)
            statistics.recordPass(startedNanoseconds: started, durationNanoseconds: duration, cpuNanoseconds: cpuTime,
                                  waitNanoseconds: wait, activity: pass)
        }
    }

    /// The event wait returned: a new pass begins.
    func waitEnded() {
        let now = ThreadClocks.monotonicNanoseconds()
        passCPUStartedAt = ThreadClocks.threadCPUNanoseconds()
        passStartedAt = now
        lastWait = timing ? now &- waitStartedAt : 0
    }

    /// Runs `body`; when `timed`, adds how long it took to `figure` of the pass's activity. Measured first, added
    /// after: `body` (the handler) counts its own sends into `activity` meanwhile.
    @inline(__always)
    func run(timed: Bool, into figure: WritableKeyPath<ServicePassActivity, UInt64>, _ body: () -> Void) {
        guard timed else { return body() }
        let start = ThreadClocks.monotonicNanoseconds()
        body()
        let spent = ThreadClocks.monotonicNanoseconds() &- start
        activity[keyPath: figure] &+= spent
    }
}
