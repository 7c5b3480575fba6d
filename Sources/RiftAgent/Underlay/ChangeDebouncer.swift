/// Gathers bursts of underlay changes into one batch: a batch is due once no change came for `quiet`, or `longest`
/// after its first change, whichever is sooner (a DHCP renewal is several messages; a flapping link must still be
/// reported).
struct ChangeDebouncer {
    let quiet: Duration
    let longest: Duration
    private(set) var pending: [UnderlayChange] = []
    private var firstAt: ContinuousClock.Instant?
    private var lastAt: ContinuousClock.Instant?

    init(quiet: Duration = .milliseconds(250), longest: Duration = .seconds(1)) {
        self.quiet = quiet
        self.longest = longest
    }

    /// Records changes seen at `now`.
    mutating func add(_ changes: [UnderlayChange], at now: ContinuousClock.Instant) {
        guard !changes.isEmpty else { return }
        pending += changes
        if firstAt == nil { firstAt = now }
        lastAt = now
    }

    /// When the pending batch becomes due; nil when nothing is pending.
    var deadline: ContinuousClock.Instant? {
        guard let firstAt, let lastAt else { return nil }
        return min(lastAt + quiet, firstAt + longest)
    }

    /// The pending batch if it is due at `now` (and then forgets it).
    mutating func takeIfDue(at now: ContinuousClock.Instant) -> [UnderlayChange]? {
        guard let deadline, now >= deadline else { return nil }
        defer {
            pending = []
            firstAt = nil
            lastAt = nil
        }
        return pending
    }
}
