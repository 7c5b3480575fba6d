/// Connections bucketed by the slot of time (the server uses 100 ms slots) at which the server must next look at
/// their silence: one coarse timer for the whole server instead of one sorted timer per connection.
///
/// `schedule` and `advance` are O(1) per connection; a received frame costs nothing here (the connection only
/// records when it was heard from, and is re-bucketed lazily when its slot comes). An id may stay in a bucket after
/// its connection closed: the caller skips ids it no longer knows. Times are whole slots from an epoch the caller
/// chooses; nothing is scheduled more than `horizon` slots ahead (later slots are clamped to the horizon, so such an
/// entry is only looked at early, never late).
struct HeartbeatWheel<ID> {
    private var buckets: [[ID]]
    /// The last slot whose bucket was taken by `advance`.
    private(set) var currentSlot: Int64

    /// A wheel for delays of up to `horizon` slots, starting at `slot`.
    init(horizon: Int, startingAt slot: Int64) {
        precondition(horizon >= 1, "a heartbeat wheel needs a horizon of at least one slot")
        buckets = Array(repeating: [], count: horizon + 1)
        currentSlot = slot
    }

    /// The longest delay a schedule keeps, in slots.
    var horizon: Int { buckets.count - 1 }

    /// Puts `id` in the bucket of `slot`: no earlier than the next slot, no later than the horizon.
    mutating func schedule(_ id: ID, at slot: Int64) {
        let due = min(max(slot, currentSlot + 1), currentSlot + Int64(horizon))
        buckets[Int(due % Int64(buckets.count))].append(id)
    }

    /// Every id due up to and including `slot`, in the order of their slots, removed from the wheel. A call
    /// for a slot not after the current one returns nothing.
    mutating func advance(to slot: Int64) -> [ID] {
        guard slot > currentSlot else { return [] }
        var due: [ID] = []
        // Past a whole turn every bucket is due: visit each once.
        let first = max(currentSlot + 1, slot - Int64(horizon))
        for passing in first...slot {
            let index = Int(passing % Int64(buckets.count))
            if !buckets[index].isEmpty {
                due.append(contentsOf: buckets[index])
                buckets[index].removeAll(keepingCapacity: true)
            }
        }
        currentSlot = slot
        return due
    }
}
