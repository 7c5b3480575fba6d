/// What the service thread tells a server's handler about a connection, as it can be held for a later pass.
enum HandlerEvent {
    case opened(ConnectionID, UpgradeRequest)
    case received(ConnectionID, String)
    case closed(ConnectionID, ConnectionCloseCause)
}

/// The read side of a server's fair share between groups of connections (see `FairWriteScheduler` for the write side
/// and for what a group is): each group may hand at most `eventsPerPass` events (a connection opened, a message, a
/// connection closed) to the handler per pass of the service loop; later ones are held, in order, and handed over
/// `eventsPerPass` at a time at the end of each pass. A busy group (a join/leave storm in one network, each join costing
/// the handler a database write and a fan-out) then delays a frame of another group by at most that many events,
/// not by everything that arrived in the same pass.
///
/// A group's events stay in arrival order (a held group holds every new event of its own). Memory is bounded: a group
/// holding `maximumHeldPerGroup` events is handed over whole at once (order kept, fairness given up for it). The
/// common case costs no allocation. `eventsPerPass == 0` disables it. Belongs to the service thread; a pure value.
struct FairEventScheduler<Event> {
    let eventsPerPass: Int
    let maximumHeldPerGroup: Int
    private var delivered: [Int]
    private var held: [[Event]]
    private var heads: [Int]
    private var heldGroups = 0

    init(eventsPerPass: Int, maximumHeldPerGroup: Int = 4_096) {
        self.eventsPerPass = max(0, eventsPerPass)
        self.maximumHeldPerGroup = max(1, maximumHeldPerGroup)
        delivered = Array(repeating: 0, count: FairWriteScheduler.groupCount)
        held = Array(repeating: [], count: FairWriteScheduler.groupCount)
        heads = Array(repeating: 0, count: FairWriteScheduler.groupCount)
    }

    /// Whether any event waits for a later pass (the loop must then not block waiting for I/O).
    var hasHeld: Bool { heldGroups > 0 }

    /// Whether `group` holds events (a new event of its own must then be held behind them, or they flushed first).
    func isHolding(_ group: Int) -> Bool { heads[group] < held[group].count }

    /// Whether an event of `group` may be handed over now (counted if so); if not, `hold` it.
    mutating func admit(_ group: Int) -> Bool {
        guard eventsPerPass > 0 else { return true }
        guard delivered[group] < eventsPerPass, !isHolding(group) else { return false }
        delivered[group] += 1
        return true
    }

    /// Holds `event` of `group` for a later pass. When the group then holds `maximumHeldPerGroup` events, all of them
    /// are moved to `overflow` at once, in order, to be handed over now.
    mutating func hold(_ event: Event, group: Int, overflow: inout [Event]) {
        if !isHolding(group) { heldGroups += 1 }
        held[group].append(event)
        if held[group].count - heads[group] >= maximumHeldPerGroup { take(group, count: .max, into: &overflow) }
    }

    /// Moves every held event of `group`, in order, to `batch` (to be handed over now).
    mutating func takeAll(_ group: Int, into batch: inout [Event]) {
        take(group, count: .max, into: &batch)
    }

    /// Moves every held event of every group to `batch` (the loop is ending).
    mutating func takeEverything(into batch: inout [Event]) {
        for group in 0..<FairWriteScheduler.groupCount where isHolding(group) { take(group, count: .max, into: &batch) }
    }

    /// Ends the pass: every group's count starts again, and up to `eventsPerPass` held events of each group, oldest
    /// first, are moved to `batch`, to be handed over now; they count toward the next pass.
    mutating func endPass(into batch: inout [Event]) {
        guard eventsPerPass > 0 else { return }
        for group in 0..<FairWriteScheduler.groupCount { delivered[group] = 0 }
        guard heldGroups > 0 else { return }
        for group in 0..<FairWriteScheduler.groupCount where isHolding(group) {
            let before = batch.count
            take(group, count: eventsPerPass, into: &batch)
            delivered[group] = batch.count - before
        }
    }

    private mutating func take(_ group: Int, count: Int, into batch: inout [Event]) {
        guard isHolding(group) else { return }
        let end = min(held[group].count, heads[group] + min(count, held[group].count))
        batch.append(contentsOf: held[group][heads[group]..<end])
        heads[group] = end
        if heads[group] == held[group].count {
            held[group].removeAll(keepingCapacity: held[group].capacity <= maximumHeldPerGroup)
            heads[group] = 0
            heldGroups -= 1
        }
    }
}
