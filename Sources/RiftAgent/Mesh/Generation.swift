/// One ICE generation with one peer: the runtime's ICE session for it and everything learned during it.
///
/// A `PeerSession` holds at most two: `current`, the one negotiating or in use, and `standby`, an earlier one that keeps
/// carrying traffic while a newer one negotiates (make before break). Retiring, reverting and closing move whole values,
/// so no field can be forgotten on the way.
public struct Generation: Sendable {
    /// The runtime's ICE session.
    public let instance: UInt64
    /// Whether it gathers relayed candidates only (decided by the controlling side, carried by its offer).
    public let relayOnly: Bool
    /// Whether it must not move the traffic onto our relay, so it gathers no relayed candidate of ours: on the
    /// controlling side an upgrade (PeerSession+Upgrade), where a pair relayed on both ends would be a step down, or a
    /// renewal beside a working path that does not use our relay (`renewBesideLivePath`, the answer to `"none"`); on
    /// the controlled side a normal generation that arrived, unasked, while our relayed pair carried traffic
    /// (`PeerSession.acceptOffer`), where a pair on our relay would only move the tunnel to another relayed pair.
    public internal(set) var seeksPathOffRelay = false
    /// Which of our candidates it gathers: what `relayOnly` and `seeksPathOffRelay` say.
    var candidateScope: ICECandidateScope { relayOnly ? .relayOnly : seeksPathOffRelay ? .withoutOwnRelay : .all }
    /// ICE connectivity.
    public internal(set) var connectivity: ICEConnectivity = .gathering
    /// The selected candidate pair, once ICE chose one.
    public internal(set) var selectedPair: (local: CandidateEndpoint, remote: CandidateEndpoint)?
    /// When this generation pointed WireGuard at its pair (mesh clock); nil until it did.
    var pathSince: Int64?
    /// When the runtime created its ICE session (gathering began, mesh clock), and how long after that the first
    /// candidate a STUN or TURN server gave us arrived (srflx or relay), in milliseconds: one or two round trips to
    /// that server (TURN answers the first Allocate with a challenge), so a measure of how far this side is from the
    /// internet's middle. What `PeerSession.pathSlowness` reads.
    var gatheringSince: Int64?
    var serverAnswerTook: Int64?
    /// Whether WireGuard was made to start its first handshake over this generation's path again (see
    /// `PeerSession.nudgeFirstHandshake`).
    var handshakeNudged = false
    /// Whether this generation's hand-over was bypassed (the peer sends on another pair): its pairs are forwarded.
    var handoverBypassed = false
    /// Our ICE credentials, once the session exists; candidates are signaled only after the description that holds them.
    var localCredentials: (ufrag: String, pwd: String)?
    /// The remote description: its WireGuard listen port, nil until it arrived.
    var remoteListenPort: UInt16?
    /// Host candidates: ours as gathered, the peer's as signaled (see `PeerSession.pairSelected`).
    var localHostEndpoints: Set<HostEndpoint> = []
    var remoteHostEndpoints: Set<HostEndpoint> = []
    /// The kinds of candidates ours and the peer's were, and the failed attempts before this generation began
    /// (controlling side): why a relayed path is relayed (`RelayExplanation`).
    public internal(set) var localKinds = CandidateTally()
    public internal(set) var remoteKinds = CandidateTally()
    var failedAttemptsBefore = 0
    /// Whether it was counted in `PeerSession.failedGenerationsInARow` (it ended, or is ending, without a pair).
    var countedAsFailed = false
    /// Whether it was started because the path in use went quiet (`PeerSession.startOnSuspicion`): it is given up if
    /// that path speaks again before this one selects a pair.
    var startedOnSuspicion = false
    /// Controlled side, normal generation: our relayed candidates not signaled yet, and whether the end of candidates
    /// waits behind them (see PeerSession+RelayHold).
    var heldRelayCandidates: [String] = []
    var heldEndOfCandidates = false
    /// When the hold ends (mesh clock); nil on the controlling side, in relay-only generations and once it ended.
    var relayHoldEndsAt: Int64?

    /// A new generation on ICE session `instance`.
    init(instance: UInt64, relayOnly: Bool) {
        self.instance = instance
        self.relayOnly = relayOnly
    }

    /// Whether its selected pair goes through a TURN relay, on either end.
    var isOnRelay: Bool {
        guard let pair = selectedPair else { return false }
        return pair.local.kind == .relayed || pair.remote.kind == .relayed
    }

    /// Whether the peer's description of this generation arrived.
    var hasRemoteDescription: Bool { remoteListenPort != nil }
}
