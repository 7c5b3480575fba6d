/// Items due at a time, taken in the order they were added once their time has come: the hub's hello deadlines and
/// TURN credential refreshes, so that the router's tick touches only the connections that are due instead of walking
/// every connection once a second (at 10,000 connections that walk was a stall of several milliseconds on the service
/// thread, once a second, in the relay latency's tail).
///
/// Each kind of deadline is a constant delay after the moment it was scheduled on the monotonic clock, so items are
/// added in deadline order and a FIFO suffices. An item added out of order is not lost: it waits behind an earlier
/// one until that one is due. Entries may be stale (the connection closed, or its deadline moved); the caller checks
/// each taken item against the connection's state. A pure value; memory is that of the items scheduled and not yet due.
struct DeadlineQueue<Item> {
    private var entries: [(due: Double, item: Item)] = []
    private var head = 0

    /// Scheduled items not yet taken.
    var count: Int { entries.count - head }

    /// Schedules `item` for `due` (monotonic seconds).
    mutating func schedule(_ item: Item, at due: Double) {
        entries.append((due, item))
    }

    /// Removes and returns, in order, the items due at `now`.
    mutating func takeDue(now: Double) -> [Item] {
        var due: [Item] = []
        while head < entries.count, entries[head].due <= now {
            due.append(entries[head].item)
            head += 1
        }
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 4_096)
            head = 0
        } else if head >= 4_096, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return due
    }
}
