/// Which hub the agent connects to next, when it is given several (the members of one hub cluster).
///
/// Round robin: after a lost session or a failed attempt the agent moves to the next hub at once, and only after a full
/// round without a welcome (every hub tried since the last one that worked) does it wait a backoff step. So a dead hub
/// costs one quick switch, and a session on a killed hub is back on another member well within the ~5 s after which the
/// surviving hubs announce a dead hub's peers as left (`timeout`): nobody sees the peer leave. With one hub every failure is a full round, as before.
/// A pure value: `HubLink` owns one and applies the delays. It also orders the addresses of one hub's name (`HubAddresses`):
/// a round of those is one attempt on that hub.
struct HubRotation: Sendable, Equatable {
    /// What to do before the next attempt.
    enum Pause: Sendable, Equatable {
        /// Connect at once (a short jitter only): another hub of this round is still untried.
        case none
        /// A full round failed: wait one step of the capped, jittered backoff.
        case backoff
    }

    /// The hubs' URLs in the configured order (or one hub's addresses); never empty.
    let hubs: [String]
    /// The position in `hubs` of the hub to connect to now.
    private(set) var position = 0
    /// Attempts since the last welcome (or since the start) that ended without one, or lost a session.
    private var failuresThisRound = 0

    /// A rotation starting with the first of `hubs` (which must not be empty).
    init(hubs: [String]) {
        precondition(!hubs.isEmpty, "a rotation needs at least one hub")
        self.hubs = hubs
    }

    /// The hub to connect to now.
    var current: String { hubs[position] }

    /// The current hub welcomed the agent: the next round starts from it.
    mutating func welcomed() {
        failuresThisRound = 0
    }

    /// The session with the current hub was lost, or the attempt failed: moves to the next hub and says whether to
    /// wait a backoff step first (after a full round without a welcome).
    mutating func failed() -> Pause {
        position = (position + 1) % hubs.count
        failuresThisRound += 1
        guard failuresThisRound >= hubs.count else { return .none }
        failuresThisRound = 0
        return .backoff
    }
}
