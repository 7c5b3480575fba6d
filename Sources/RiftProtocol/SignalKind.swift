/// The kinds of end-to-end signaling message the hub relays between two peers of a network.
public enum SignalKind: String, Sendable, CaseIterable, Hashable {
    /// The controlling peer's ICE credentials, candidates and WireGuard parameters.
    case offer
    /// The controlled peer's reply to an offer.
    case answer
    /// One trickled ICE candidate.
    case candidate
    /// No more candidates will follow for this session generation.
    case endOfCandidates = "end_of_candidates"
    /// A request from the controlled peer that the controlling peer restart ICE.
    case restart
}
