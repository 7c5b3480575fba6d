import FoundationEssentials

/// The real `AgentClock`: milliseconds since the agent started on the monotonic clock, and the system's wall clock.
struct SystemAgentClock: AgentClock {
    private let startedAt = ContinuousClock.now

    func milliseconds() -> Int64 {
        let elapsed = ContinuousClock.now - startedAt
        return elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    func epochSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
