import RiftProtocol
import RiftSupport

/// Limits failed authentication attempts per client address, so one host cannot try tokens or proofs
/// without bound.
///
/// Each address (an IPv4 address, or the /64 of an IPv6 address, since one host usually owns a whole
/// /64) has a bucket of `burst` failures refilled at `perMinute`. While empty, the hub refuses that
/// address's connections before looking at their token. The table holds at most `maximumTracked`
/// addresses; full buckets are forgotten on `prune`, and when the table is full a new address is not
/// tracked (the limiter fails open rather than blocking everyone).
public struct AuthFailureLimiter: Sendable {
    private var buckets: [String: TokenBucket] = [:]
    private let burst: Double
    private let perSecond: Double
    private let maximumTracked: Int

    /// Creates a limiter allowing `burst` failures at once and `perMinute` sustained.
    public init(burst: Int = 10, perMinute: Int = 10, maximumTracked: Int = 65_536) {
        self.burst = Double(burst)
        self.perSecond = Double(perMinute) / 60
        self.maximumTracked = maximumTracked
    }

    /// Whether `address` may try to authenticate now. Loopback clients are never throttled: behind a TLS
    /// proxy on the same host every client arrives from loopback, and one bad client must not lock out all.
    public mutating func allows(_ address: String, now: Double) -> Bool {
        let key = Self.clientKey(address)
        if Self.isLoopback(key) { return true }
        guard var bucket = buckets[key] else { return true }
        defer { buckets[key] = bucket }
        return bucket.hasToken(now: now)
    }

    /// Records a failed attempt from `address`.
    public mutating func recordFailure(_ address: String, now: Double) {
        let key = Self.clientKey(address)
        guard !Self.isLoopback(key) else { return }
        var bucket = buckets[key] ?? TokenBucket(capacity: burst, ratePerSecond: perSecond, now: now)
        _ = bucket.take(now: now)
        if buckets[key] != nil || buckets.count < maximumTracked { buckets[key] = bucket }
    }

    static func isLoopback(_ key: String) -> Bool {
        key.hasPrefix("127.") || key == "::/64" || key == "::1"
    }

    /// Forgets addresses whose buckets have refilled.
    public mutating func prune(now: Double) {
        buckets.removeRefilled(now: now)
    }

    /// How many addresses are tracked.
    public var trackedCount: Int { buckets.count }

    /// The key an address is limited under: IPv4 as is (also when written IPv4-mapped), IPv6 by its /64.
    static func clientKey(_ address: String) -> String {
        var text = address
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") { text = String(text[text.index(after: text.startIndex)..<end]) }
        if let last = text.split(separator: ":").last, IPv4Address(String(last)) != nil { return String(last) }
        guard let ipv6 = IPv6Address(text) else { return text }
        return IPv6Address(bytes: Array(ipv6.bytes.prefix(8)) + [UInt8](repeating: 0, count: 8)).description + "/64"
    }
}
