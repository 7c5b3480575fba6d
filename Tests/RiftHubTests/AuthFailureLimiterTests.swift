@testable import RiftHub
import Testing

@Suite("Authentication failure limiter")
struct AuthFailureLimiterTests {
    @Test("clients are keyed by IPv4 address (also IPv4-mapped) or IPv6 /64")
    func keys() {
        #expect(AuthFailureLimiter.clientKey("192.0.2.7") == "192.0.2.7")
        #expect(AuthFailureLimiter.clientKey("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(AuthFailureLimiter.clientKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(AuthFailureLimiter.clientKey("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64")
        #expect(AuthFailureLimiter.clientKey("[2001:db8::1]") == "2001:db8::/64")
    }

    @Test("loopback clients (a same-host TLS proxy) are never throttled")
    func loopback() {
        var limiter = AuthFailureLimiter(burst: 1, perMinute: 1)
        for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            for _ in 0..<5 { limiter.recordFailure(address, now: 0) }
            let allowed = limiter.allows(address, now: 0)
            #expect(allowed, "\(address)")
        }
        #expect(limiter.trackedCount == 0)
    }

    @Test("the table is bounded and forgets refilled addresses")
    func bounded() {
        var limiter = AuthFailureLimiter(burst: 2, perMinute: 60, maximumTracked: 3)
        for index in 0..<10 { limiter.recordFailure("10.0.0.\(index)", now: 0) }
        #expect(limiter.trackedCount == 3)
        limiter.recordFailure("10.0.0.0", now: 0)
        let blocked = !limiter.allows("10.0.0.0", now: 0)
        let untrackedAllowed = limiter.allows("10.0.0.9", now: 0)
        #expect(blocked)
        #expect(untrackedAllowed, "untracked addresses are not blocked")
        limiter.prune(now: 10)
        #expect(limiter.trackedCount == 0)
    }
}
