import RiftSupport

/// The runtime's one ordered queue: events posted from any thread, and timers due at a time of the runtime's clock.
///
/// Posted events are taken in order before any timer; timers due at the same time keep the order they were set in.
/// `take(now:)` never blocks (tests drain inboxes with a manual clock); `waitForWork(clock:)` blocks the runtime thread
/// until something is posted or the next timer is due.
final class EventInbox: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only while `condition` is locked.
    private let condition = ConditionLock()
    private var queue: [RuntimeEvent] = []
    private var timers: [(due: Int64, order: UInt64, event: RuntimeEvent)] = []
    private var timerOrder: UInt64 = 0
    private var closed = false

    /// Appends `event`; ignored once closed.
    func post(_ event: RuntimeEvent) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        queue.append(event)
        condition.signal()
    }

    /// Delivers `event` once the runtime's clock reaches `due` (milliseconds).
    func post(_ event: RuntimeEvent, at due: Int64) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        timerOrder += 1
        timers.append((due, timerOrder, event))
        condition.signal()
    }

    /// The next posted event, else the earliest timer due by `now`, else nil.
    func take(now: Int64) -> RuntimeEvent? {
        condition.lock()
        defer { condition.unlock() }
        if !queue.isEmpty { return queue.removeFirst() }
        guard let index = earliestTimer(), timers[index].due <= now else { return nil }
        return timers.remove(at: index).event
    }

    /// Blocks until an event is posted or a timer is due, at most `limit` milliseconds. Returns at once when closed.
    func waitForWork(clock: any AgentClock, limit: Int64 = 1_000) {
        condition.lock()
        defer { condition.unlock() }
        let now = clock.milliseconds()
        guard queue.isEmpty, !closed else { return }
        var wait = limit
        if let index = earliestTimer() { wait = min(wait, timers[index].due - now) }
        guard wait > 0 else { return }
        condition.wait(milliseconds: wait)
    }

    /// Drops everything and refuses new events, so nothing is held after the runtime stopped.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        queue.removeAll()
        timers.removeAll()
        condition.signal()
    }

    private func earliestTimer() -> Int? {
        timers.indices.min { (timers[$0].due, timers[$0].order) < (timers[$1].due, timers[$1].order) }
    }
}
