/// Connections bucketed by the whole second at which the server must next look at their silence: one coarse timer
/// for the whole server instead of one sorted timer per connection.
///
/// `schedule` and `advance` are O(1) per connection; a received frame costs nothing here (the connection only
/// records when it was heard from, and is re-bucketed lazily when its second comes). An id may stay in a bucket after
/// its connection closed: the caller skips ids it no longer knows. Times are whole seconds from an epoch the caller
/// chooses; nothing is scheduled more than `horizon` seconds ahead (later seconds are clamped to the horizon, so
/// such an entry is only looked at early, never late).
struct HeartbeatWheel<ID> {
    private var buckets: [[ID]]
    /// The last second whose bucket was taken by `advance`.
    private(set) var currentSecond: Int64

    /// A wheel for delays of up to `horizon` seconds, starting at `second`.
    init(horizon: Int, startingAt second: Int64) {
        precondition(horizon >= 1, "a heartbeat wheel needs a horizon of at least one second")
        buckets = Array(repeating: [], count: horizon + 1)
        currentSecond = second
    }

    /// The longest delay a schedule keeps, in seconds.
    var horizon: Int { buckets.count - 1 }

    /// Puts `id` in the bucket of `second`: no earlier than the next second, no later than the horizon.
    mutating func schedule(_ id: ID, at second: Int64) {
        let due = min(max(second, currentSecond + 1), currentSecond + Int64(horizon))
        buckets[Int(due % Int64(buckets.count))].append(id)
    }

    /// Every id due up to and including `second`, in the order of their seconds, removed from the wheel. A call
    /// for a second not after the current one returns nothing.
    mutating func advance(to second: Int64) -> [ID] {
        guard second > currentSecond else { return [] }
        var due: [ID] = []
        // Past a whole turn every bucket is due: visit each once.
        let first = max(currentSecond + 1, second - Int64(horizon))
        for passing in first...second {
            let index = Int(passing % Int64(buckets.count))
            if !buckets[index].isEmpty {
                due.append(contentsOf: buckets[index])
                buckets[index].removeAll(keepingCapacity: true)
            }
        }
        currentSecond = second
        return due
    }
}
