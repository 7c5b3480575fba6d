import RiftProtocol

/// The access of a network before a recent policy or tag change, kept while its departed peers may have missed it.
struct AccessBeforeChange: Sendable, Hashable {
    /// The access of the network before the first change of the window.
    var previous: NetworkAccess
    /// When that change was applied (the router's monotonic clock).
    var at: Double
}

/// A policy change that two departed peers both missed.
///
/// Two agents off the hub keep the tunnel between them while it works, for up to five minutes (PROTOCOL.md §6.6). A
/// policy or tag change that separates them meanwhile reaches neither: the live sessions are told (`peer_left`
/// `policy`, `announceDepartedPolicyChanges`), but the two are not live, and when one of them rejoins, its welcome
/// does not list the other, which reads the same as "offline". So for `departureMemorySeconds` after a change the hub
/// keeps the access the network had before it (the oldest within that time), and right after the welcome of each
/// session of that network it sends `peer_left` `policy` for every departed peer whose access decision with the new
/// session's peer changed, either way, among those the old access introduced to it. An agent that never knew the peer,
/// or already removed it, ignores the notice. (The same covers a session whose connection had died unnoticed when the
/// change came: it was told into the dead connection, and departs when the heartbeat gives up on it.)
///
/// Bounded: only departed peers are considered (a live peer was told of the change and removed the tunnel on its
/// side), and nothing is done when more than `missedPolicyDepartureLimit` departures are remembered (a dead hub of a
/// cluster leaves thousands for a few minutes; the agents' 5-minute bound then applies).
extension HubRouter {
    /// The most departures remembered for which a rejoining session is checked against a recent policy change.
    static var missedPolicyDepartureLimit: Int { 2_000 }

    /// The networks with departures remembered: their access is kept up to date like a live network's.
    var networksWithDepartures: Set<String> { Set(departures.keys.map(\.network)) }

    /// Keeps `previous`, the access of `network` before a change just applied, unless an older one is still kept.
    mutating func rememberAccessBeforeChange(in network: String, _ previous: NetworkAccess) {
        let now = clock.monotonicSeconds()
        if let kept = accessBeforeChange[network], now - kept.at < Self.departureMemorySeconds { return }
        // Kept even when nobody has departed yet: a session whose connection died unnoticed was "told" into it, and
        // departs only when the hub's heartbeat gives up on it.
        accessBeforeChange[network] = AccessBeforeChange(previous: previous, at: now)
    }

    /// Tells `recipient`'s new session on `connection` of every departed peer of `network` that a recent policy
    /// change separated from it or changed the rules with, as `peer_left` `policy`.
    mutating func announceMissedPolicyChanges(to connection: Connection, recipient: PublicKey, in network: String,
                                              _ actions: inout [HubAction<Connection>]) {
        guard let kept = accessBeforeChange[network], clock.monotonicSeconds() - kept.at < Self.departureMemorySeconds,
              departures.count <= Self.missedPolicyDepartureLimit else { return }
        let current = networkAccess(network)
        announcePolicyChanges(about: departedPeers(in: network).filter { $0 != recipient }, to: connection,
                              recipient: recipient, from: kept.previous, to: current, &actions)
    }

    /// Drops the kept accesses older than `departureMemorySeconds` (from the periodic recheck).
    mutating func forgetOldAccessChanges(now: Double) {
        accessBeforeChange = accessBeforeChange.filter { now - $0.value.at < Self.departureMemorySeconds }
    }
}
