/// Where a server's service thread spends its time, pass by pass: how long each pass of the loop ran (from the return
/// of the event wait to the next wait), how long each wait lasted, and for the passes slower than `slowPassNanoseconds`
/// what ran in them and when.
///
/// A pure value, fed by the service thread (`record`) and copied out by whoever reads it. A slow pass whose thread CPU
/// time is far below its wall time was not busy the whole time: the thread was preempted or blocked in the middle.
public struct ServicePassStatistics: Sendable, Equatable {
    /// One pass slower than `slowPassNanoseconds`.
    public struct SlowPass: Sendable, Equatable {
        /// When the pass began (the event wait returned), CLOCK_MONOTONIC nanoseconds.
        public var startedNanoseconds: UInt64
        /// Its wall time.
        public var durationNanoseconds: UInt64
        /// The service thread's CPU time during it.
        public var cpuNanoseconds: UInt64
        /// How long the event wait before it lasted.
        public var waitNanoseconds: UInt64
        /// What ran in it.
        public var activity: ServicePassActivity

        /// A slow pass as recorded.
        public init(startedNanoseconds: UInt64, durationNanoseconds: UInt64, cpuNanoseconds: UInt64,
                    waitNanoseconds: UInt64, activity: ServicePassActivity) {
            self.startedNanoseconds = startedNanoseconds
            self.durationNanoseconds = durationNanoseconds
            self.cpuNanoseconds = cpuNanoseconds
            self.waitNanoseconds = waitNanoseconds
            self.activity = activity
        }
    }

    /// A pass longer than this counts as slow (2 ms).
    public let slowPassNanoseconds: UInt64
    /// How many slow passes `recentSlowPasses` keeps.
    public let recentCapacity: Int
    /// Every pass's wall time.
    public private(set) var passes = DurationHistogram()
    /// Every event wait's wall time (wake-ups included: a ready descriptor gives a wait of about zero).
    public private(set) var waits = DurationHistogram()
    /// How many passes were slow.
    public private(set) var slowPasses: UInt64 = 0
    /// The wall time of the slow passes minus their thread CPU time, summed: time preempted or blocked inside them.
    public private(set) var slowPassesOffCPUNanoseconds: UInt64 = 0
    /// What ran in all slow passes, summed.
    public private(set) var slowPassActivity = ServicePassActivity()
    /// What ran in all passes, summed.
    public private(set) var totalActivity = ServicePassActivity()
    /// The latest slow passes, oldest first, at most `recentCapacity`.
    public var recentSlowPasses: [SlowPass] {
        recent.count < recentCapacity ? recent : Array(recent[nextSlot...] + recent[..<nextSlot])
    }

    private var recent: [SlowPass] = []
    private var nextSlot = 0

    /// Empty statistics; a pass over `slowPassNanoseconds` is slow and the last `recentCapacity` of those are kept.
    public init(slowPassNanoseconds: UInt64 = 2_000_000, recentCapacity: Int = 512) {
        self.slowPassNanoseconds = slowPassNanoseconds
        self.recentCapacity = max(1, recentCapacity)
    }

    /// Counts one event wait.
    public mutating func recordWait(nanoseconds: UInt64) {
        waits.record(nanoseconds: nanoseconds)
    }

    /// Counts one pass: it began at `startedNanoseconds` (monotonic), lasted `durationNanoseconds` of wall time and
    /// `cpuNanoseconds` of the thread's CPU time, after a wait of `waitNanoseconds`, and did `activity`.
    public mutating func recordPass(startedNanoseconds: UInt64, durationNanoseconds: UInt64, cpuNanoseconds: UInt64,
                                    waitNanoseconds: UInt64, activity: ServicePassActivity) {
        passes.record(nanoseconds: durationNanoseconds)
        totalActivity.add(activity)
        guard durationNanoseconds > slowPassNanoseconds else { return }
        slowPasses &+= 1
        slowPassesOffCPUNanoseconds &+= durationNanoseconds > cpuNanoseconds ? durationNanoseconds - cpuNanoseconds : 0
        slowPassActivity.add(activity)
        let pass = SlowPass(startedNanoseconds: startedNanoseconds, durationNanoseconds: durationNanoseconds,
                            cpuNanoseconds: cpuNanoseconds, waitNanoseconds: waitNanoseconds, activity: activity)
        if recent.count < recentCapacity {
            recent.append(pass)
        } else {
            recent[nextSlot] = pass
            nextSlot = (nextSlot + 1) % recentCapacity
        }
    }
}
