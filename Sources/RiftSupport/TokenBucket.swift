/// A token bucket: `capacity` tokens, refilled at `ratePerSecond`, one spent per event.
///
/// Pure value: the caller passes monotonic seconds, so tests need no real time.
public struct TokenBucket: Sendable, Hashable {
    /// The most tokens the bucket holds (the burst).
    public let capacity: Double
    /// Tokens added per second.
    public let ratePerSecond: Double
    private(set) var tokens: Double
    private var updatedAt: Double

    /// A full bucket at time `now`.
    public init(capacity: Double, ratePerSecond: Double, now: Double) {
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        self.tokens = capacity
        self.updatedAt = now
    }

    /// Spends one token and returns true, or returns false (spending nothing) when the bucket is empty.
    public mutating func take(now: Double) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether a token is available now, without spending it.
    public mutating func hasToken(now: Double) -> Bool {
        refill(now: now)
        return tokens >= 1
    }

    /// Whether the bucket has refilled completely, so forgetting it changes nothing.
    public mutating func isFull(now: Double) -> Bool {
        refill(now: now)
        return tokens >= capacity
    }

    private mutating func refill(now: Double) {
        if now > updatedAt { tokens = min(capacity, tokens + (now - updatedAt) * ratePerSecond) }
        updatedAt = max(updatedAt, now)
    }
}

extension Dictionary where Value == TokenBucket {
    /// Forgets the buckets that have refilled completely: forgetting them changes nothing, and it keeps a limiter's
    /// table as small as its recent offenders.
    public mutating func removeRefilled(now: Double) {
        self = filter { _, bucket in
            var bucket = bucket
            return !bucket.isFull(now: now)
        }
    }
}
