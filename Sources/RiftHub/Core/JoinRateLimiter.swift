import RiftSupport

/// Bounds how often a key, and a token, may join, so one token holder cannot load the hub (and every network's relay
/// latency) with join/leave cycles.
///
/// Per key (in its network): a burst of `keyBurst` joins, then `keyJoinsPerMinute`; an agent on a flapping link, which
/// reconnects with a 0.5–4 s backoff, stays within it. Per token: a burst the size of the network's peer limit (so a
/// whole network reconnecting after a hub restart always gets in), then the limit per 30 s. Checked after the proof of
/// possession, so nobody can spend another key's budget. Both tables forget refilled buckets on `prune` and are bounded
/// by the hub's connections, since only authenticated joins create entries.
struct JoinRateLimiter: Sendable {
    private var keys: [String: TokenBucket] = [:]
    private var tokens: [String: TokenBucket] = [:]
    let keyBurst: Double
    let keyJoinsPerMinute: Double

    init(keyBurst: Int = 10, keyJoinsPerMinute: Int = 6) {
        self.keyBurst = Double(keyBurst)
        self.keyJoinsPerMinute = Double(keyJoinsPerMinute)
    }

    /// What limits a join, if anything.
    enum Verdict: Equatable { case allowed, keyTooFast, tokenTooFast }

    /// Spends one join of `key` in `network` admitted by `tokenID`, whose network allows `maximumPeers` peers.
    mutating func admit(key: String, network: String, tokenID: String, maximumPeers: Int, now: Double) -> Verdict {
        let keyID = network + " " + key
        var keyBucket = keys[keyID] ?? TokenBucket(capacity: keyBurst, ratePerSecond: keyJoinsPerMinute / 60, now: now)
        let tokenCapacity = Double(max(maximumPeers, 16))
        var tokenBucket = tokens[tokenID] ?? TokenBucket(capacity: tokenCapacity, ratePerSecond: max(tokenCapacity / 30, 1), now: now)
        guard keyBucket.hasToken(now: now) else { return .keyTooFast }
        guard tokenBucket.take(now: now) else { return .tokenTooFast }
        _ = keyBucket.take(now: now)
        keys[keyID] = keyBucket
        tokens[tokenID] = tokenBucket
        return .allowed
    }

    /// Forgets buckets that have refilled.
    mutating func prune(now: Double) {
        keys.removeRefilled(now: now)
        tokens.removeRefilled(now: now)
    }
}
