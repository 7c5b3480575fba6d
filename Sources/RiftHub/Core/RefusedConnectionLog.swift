/// Connections the transport closed as soon as it accepted them, as the log reports them: the first refusal of a
/// kind is reported at once, later ones are counted and summed up in one line at most every `interval` seconds. A
/// flood then costs a counter per connection, not a log line (lws' own line per failed `accept` once wrote 457,880
/// lines in 70 s).
struct RefusedConnectionLog {
    /// Why the connections were refused; the raw value is the metric's `reason` label.
    enum Kind: String, CaseIterable, Sendable {
        /// The hub held as many connections as its open-file limit allows.
        case capacity
        /// One client address had too many connections waiting for their WebSocket upgrade.
        case pendingPerAddress = "pending_per_address"
    }

    /// What to log: refusals of one kind since the last line, and the latest refused address.
    struct Line: Equatable {
        let kind: Kind
        let refused: UInt64
        let lastAddress: String?
    }

    let interval: Double
    private var unreported: [Kind: (count: UInt64, lastAddress: String?)] = [:]
    private var nextLineAt: [Kind: Double] = [:]

    init(interval: Double = 60) {
        self.interval = interval
    }

    /// Counts one refusal; returns the line to log now, if one is due.
    mutating func record(_ kind: Kind, address: String?, now: Double) -> Line? {
        let count = (unreported[kind]?.count ?? 0) + 1
        unreported[kind] = (count, address ?? unreported[kind]?.lastAddress)
        guard now >= nextLineAt[kind] ?? -.infinity else { return nil }
        return takeLine(kind, now: now)
    }

    /// The summary lines due at `now` (kinds with refusals counted since their last line, once `interval` passed).
    mutating func dueLines(now: Double) -> [Line] {
        Kind.allCases.compactMap { kind in
            guard unreported[kind] != nil, now >= nextLineAt[kind] ?? -.infinity else { return nil }
            return takeLine(kind, now: now)
        }
    }

    private mutating func takeLine(_ kind: Kind, now: Double) -> Line? {
        guard let pending = unreported.removeValue(forKey: kind) else { return nil }
        nextLineAt[kind] = now + interval
        return Line(kind: kind, refused: pending.count, lastAddress: pending.lastAddress)
    }
}
