/// Shares a server's service thread between groups of connections, so that one group cannot starve the others.
///
/// A group is the connections that upgraded on the same path (for the hub: one network), folded into `groupCount`
/// buckets by a per-process seeded hash, so its memory is fixed whatever paths clients ask for. What is shared is the
/// write work: a broadcast to a group of N connections arms N writable callbacks, and every one of them runs, with its
/// `send` system call, before the loop reads the next frame of any other group. So each group may arm at most
/// `armsPerPass` connections per service-loop pass; the rest are postponed, in order, and armed `armsPerPass` at a
/// time at the end of each pass. A frame of a quiet group then waits behind at most `armsPerPass` writes of a busy
/// one, instead of behind its whole fan-out.
///
/// The common case costs no allocation: an array index and a comparison per arm. `armsPerPass == 0` disables it.
/// Belongs to the service thread; a pure value, so its logic is tested without sockets.
struct FairWriteScheduler {
    /// How many buckets connections are folded into.
    static let groupCount = 64

    /// Connections each group may arm per pass; 0: no limit.
    let armsPerPass: Int
    /// Arms counted per group in the current pass.
    private var armed: [Int]
    /// Postponed connections per group, oldest first from `heads[group]`.
    private var postponed: [[ConnectionID]]
    private var heads: [Int]
    private var postponedGroups = 0
    /// Which pass is current; a connection armed in this pass is re-armed without being counted again.
    private(set) var pass: UInt64 = 1
    private let seed = Int.random(in: .min ... .max)

    init(armsPerPass: Int) {
        self.armsPerPass = max(0, armsPerPass)
        armed = Array(repeating: 0, count: Self.groupCount)
        postponed = Array(repeating: [], count: Self.groupCount)
        heads = Array(repeating: 0, count: Self.groupCount)
    }

    /// The group of a connection that upgraded on `path`.
    func group(ofPath path: String) -> Int {
        var hasher = Hasher()
        hasher.combine(seed)
        hasher.combine(path)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.groupCount))
    }

    /// Whether a connection of `group` may be armed now (counted if so). False when the group used its share of this
    /// pass or has connections postponed before it: then `postpone` it.
    mutating func admit(_ group: Int) -> Bool {
        guard armsPerPass > 0 else { return true }
        guard armed[group] < armsPerPass, heads[group] == postponed[group].count else { return false }
        armed[group] += 1
        return true
    }

    /// Queues a connection of `group` that `admit` refused; it is handed back by a later `endPass`.
    mutating func postpone(_ id: ConnectionID, group: Int) {
        if heads[group] == postponed[group].count { postponedGroups += 1 }
        postponed[group].append(id)
    }

    /// Whether any connection waits for a later pass.
    var hasPostponed: Bool { postponedGroups > 0 }

    /// Ends the pass: every group's count starts again, and up to `armsPerPass` postponed connections of each group,
    /// oldest first, are handed to `arm`, which arms one and returns true, or returns false for a connection that is
    /// gone (it does not count). What `arm` arms counts toward the next pass.
    mutating func endPass(arm: (ConnectionID) -> Bool) {
        pass &+= 1
        guard armsPerPass > 0 else { return }
        for group in 0..<Self.groupCount { armed[group] = 0 }
        guard postponedGroups > 0 else { return }
        for group in 0..<Self.groupCount where heads[group] < postponed[group].count {
            while armed[group] < armsPerPass, heads[group] < postponed[group].count {
                let id = postponed[group][heads[group]]
                heads[group] += 1
                if arm(id) { armed[group] += 1 }
            }
            if heads[group] == postponed[group].count {
                postponed[group].removeAll(keepingCapacity: postponed[group].capacity <= 4_096)
                heads[group] = 0
                postponedGroups -= 1
            }
        }
    }
}
