/// Capped exponential backoff with jitter, in whole milliseconds.
///
/// Integer arithmetic with a capped exponent: it can neither overflow to zero (an earlier agent's floating-point
/// backoff did, and produced tens of thousands of reconnects) nor grow past `maximum`. Each delay is drawn uniformly from the upper half of the current step, so
/// many agents restarted together spread out.
public struct Backoff: Sendable {
    /// The first delay step.
    public var initialMilliseconds: Int
    /// The largest delay step.
    public var maximumMilliseconds: Int
    /// Consecutive failures so far.
    public private(set) var attempts = 0

    /// Creates a backoff from `initialMilliseconds` up to `maximumMilliseconds`.
    public init(initialMilliseconds: Int = 500, maximumMilliseconds: Int = 30_000) {
        precondition(initialMilliseconds > 0 && maximumMilliseconds >= initialMilliseconds)
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The current step before jitter: initial × 2^attempts, capped.
    public var stepMilliseconds: Int {
        let shift = min(attempts, 20)
        let (doubled, overflow) = initialMilliseconds.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? maximumMilliseconds : min(doubled, maximumMilliseconds)
    }

    /// Records a failure and returns how long to wait before the next try.
    public mutating func nextDelay<G: RandomNumberGenerator>(using generator: inout G) -> Int {
        let step = stepMilliseconds
        attempts += 1
        return step / 2 + Int.random(in: 0...(step - step / 2), using: &generator)
    }

    /// Records a failure and returns the delay, with the system random generator.
    public mutating func nextDelay() -> Int {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Forgets past failures after a success.
    public mutating func reset() { attempts = 0 }
}
