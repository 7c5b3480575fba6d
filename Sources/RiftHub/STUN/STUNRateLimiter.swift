import RiftSupport

/// Limits how many STUN answers one source gets, so the hub cannot be used to reflect traffic at a victim.
///
/// A Binding response is about twice the size of the request (more for IPv6), and the source address of a UDP request
/// can be forged: without a limit, one attacker could make the hub send tens of thousands of answers a second to a
/// victim. Each source (an IPv4 address, or the /64 of an IPv6 address) has a bucket of `burst` answers refilled at
/// `perSecond`; an agent gathering candidates sends a handful. The table holds at most `maximumTracked` sources; when
/// it is full even after forgetting refilled buckets, new sources get no answer (an attacker forging many sources
/// must not turn the limit off).
public struct STUNRateLimiter: Sendable {
    private var buckets: [[UInt8]: TokenBucket] = [:]
    private let burst: Double
    private let perSecond: Double
    private let maximumTracked: Int
    private var lastPrune = 0.0

    /// Creates a limiter: `burst` answers at once per source, `perSecond` sustained.
    public init(burst: Int = 20, perSecond: Int = 10, maximumTracked: Int = 65_536) {
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
        self.maximumTracked = maximumTracked
    }

    /// Whether `source` may get an answer now (spends one when it may); `now` in monotonic seconds.
    public mutating func allows(_ source: STUNEndpoint, now: Double) -> Bool {
        let key = source.address.count == 4 ? source.address : Array(source.address.prefix(8))
        if var bucket = buckets[key] {
            defer { buckets[key] = bucket }
            return bucket.take(now: now)
        }
        if buckets.count >= maximumTracked || now - lastPrune >= 1 { prune(now: now) }
        guard buckets.count < maximumTracked else { return false }
        var bucket = TokenBucket(capacity: burst, ratePerSecond: perSecond, now: now)
        let allowed = bucket.take(now: now)
        buckets[key] = bucket
        return allowed
    }

    /// How many sources are tracked.
    public var trackedCount: Int { buckets.count }

    private mutating func prune(now: Double) {
        lastPrune = now
        buckets.removeRefilled(now: now)
    }
}
