/// The largest value recorded lately: within the last one to two `window`s of the mesh clock (two buckets, the
/// current window's maximum and the one before it), so one slow sample counts for a while and then is forgotten.
struct RecentMaximum: Sendable {
    /// The length of a bucket, in milliseconds.
    let window: Int64
    private var bucketStart: Int64 = .min / 2
    private var current: Int64 = 0
    private var previous: Int64 = 0

    init(window: Int64) { self.window = window }

    /// Records `value`, seen at `now`.
    mutating func record(_ value: Int64, now: Int64) {
        let age = now - bucketStart
        if age >= 2 * window {
            (previous, current, bucketStart) = (0, 0, now)
        } else if age >= window {
            (previous, current, bucketStart) = (current, 0, bucketStart + window)
        }
        current = max(current, value)
    }

    /// The largest value recorded in the current bucket and the one before it, as of `now` (0 when none).
    func value(now: Int64) -> Int64 {
        let age = now - bucketStart
        if age >= 2 * window { return 0 }
        if age >= window { return current }
        return max(current, previous)
    }
}
