/// The sequences seen from one origin in one stream: a sliding window (as IPsec's anti-replay window) that tells a
/// new message from a duplicate even when messages of different subscriptions arrive slightly out of order.
struct SequenceWindow: Sendable {
    /// How far behind the highest sequence a message may arrive and still be accepted.
    static let width: Int64 = 1024
    /// The highest sequence accepted so far (0: none).
    private(set) var highest: Int64 = 0
    /// Sequences accepted within the window.
    private var seen: Set<Int64> = []

    /// Records `sequence` and returns true the first time it is seen within the window; false for a duplicate or a
    /// sequence older than the window (also treated as a duplicate: it cannot be told apart from one).
    mutating func accept(_ sequence: Int64) -> Bool {
        guard sequence > highest - Self.width, !seen.contains(sequence) else { return false }
        seen.insert(sequence)
        if sequence > highest {
            highest = sequence
            if seen.count > 2 * Int(Self.width) {
                let floor = highest - Self.width
                seen = seen.filter { $0 > floor }
            }
        }
        return true
    }

    /// Whether `sequence` (at most `highest`) has not been seen: inside the window and never accepted, or older than
    /// the window (it can no longer be told, so it counts as missing).
    func isMissing(_ sequence: Int64) -> Bool {
        sequence <= highest && !seen.contains(sequence)
    }
}
