/// What to do with the peer's trickled candidates, given whether its credentials have arrived.
///
/// Signaling does not order candidates after the offer or answer that carries the credentials, and libnice
/// checks pairs with whatever password it has at the time; so candidates (and the peer's end-of-candidates)
/// that arrive first wait here, bounded, and are applied once the credentials are known. A plain state
/// machine: it performs no I/O, the session applies the actions it returns.
struct RemoteCandidateQueue: Sendable {
    /// The most candidates held back; a peer has a handful, so more means a broken or hostile peer.
    static let capacity = 64

    /// What the session should do with one candidate.
    enum CandidateAction: Equatable {
        /// Credentials are known: hand the candidate to libnice now.
        case apply
        /// Held until the credentials arrive.
        case buffered
        /// The buffer is full; the candidate is refused.
        case refused
    }

    /// Whether the remote credentials of the current generation have been set.
    private(set) var credentialsKnown = false
    private var pending: [String] = []
    private var peerGatheringDone = false

    /// Records a candidate line (already validated) and says what to do with it.
    mutating func candidateArrived(_ line: String) -> CandidateAction {
        if credentialsKnown { return .apply }
        guard pending.count < Self.capacity else { return .refused }
        pending.append(line)
        return .buffered
    }

    /// Records the peer's end-of-candidates; returns true when it should be passed to libnice now.
    mutating func peerGatheringDoneArrived() -> Bool {
        if credentialsKnown { return true }
        peerGatheringDone = true
        return false
    }

    /// Records that the credentials were set; returns the held candidates, in arrival order, and whether the
    /// peer's end-of-candidates should follow them.
    mutating func credentialsArrived() -> (candidates: [String], gatheringDone: Bool) {
        credentialsKnown = true
        defer { pending = []; peerGatheringDone = false }
        return (pending, peerGatheringDone)
    }

    /// Forgets everything: an ICE restart starts a new generation whose credentials are not known yet.
    mutating func reset() { self = RemoteCandidateQueue() }
}
