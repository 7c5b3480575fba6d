import RiftProtocol

/// The negotiation with one remote peer: its ICE generations, buffered candidates and the chosen data path.
///
/// A plain value whose mutating methods return `MeshAction`s; it performs no I/O. The peer whose key sorts first is
/// controlling and the only one that offers (PROTOCOL.md §8), so two agents never both restart at once.
public struct PeerSession: Sendable {
    /// The peer as the hub describes it.
    public internal(set) var info: PeerInfo
    /// Whether this agent is the ICE controlling side for this pair.
    public let controlling: Bool
    /// Our own key.
    let me: PublicKey
    /// The pair's session id: ours when controlling, the remote's when controlled.
    public internal(set) var session: String?
    /// The number of the latest generation (on the wire).
    public internal(set) var generation: Int64 = 0
    /// The generation negotiating or in use, nil between generations.
    public internal(set) var current: Generation?
    /// An earlier generation still carrying traffic while `current` negotiates (see PeerSession+Upgrade).
    public internal(set) var standby: Generation?
    /// How WireGuard reaches the peer now, or nil before a path exists. It outlives generations: WireGuard keeps its
    /// endpoint until a new generation selects a pair.
    public internal(set) var path: DataPathMode?
    /// Why the path was chosen, for status.
    public internal(set) var pathReason = "negotiating"
    /// When the current attempt to reach the peer began (mesh clock): a generation started, or the controlled side
    /// asked for one. Negotiation deadlines and the freshness of restart requests count from here.
    var attemptStartedAt: Int64
    /// Trickled messages that arrived before the description they belong to.
    var pendingTrickle: [SignalPayload] = []
    /// Recovery bookkeeping (see PeerSession+Path): consecutive failures and when the next restart may start.
    var recovery = Backoff(initialMilliseconds: 2_000, maximumMilliseconds: 60_000)
    var nextRecoveryAt: Int64 = 0
    /// Why the last recovery started, for status.
    public internal(set) var lastRecoveryReason: String?
    /// Generations in a row that ended without selecting a pair (ICE failed, or the controlling side replaced one
    /// that was still checking); 0 again once one selects a pair. Both sides count it, whichever restarts; a try off
    /// the relay that fails beside a working standby does not count. For the status hint (`PeerHint`).
    var failedGenerationsInARow = 0
    /// When the path WireGuard uses was found dead (nothing received for `ReceiveWatch.silenceDeadline` while
    /// sending, whichever generation is running), mesh clock; nil again once a generation selects a pair or WireGuard
    /// receives from the peer after it. ICE's own verdict does not set it (see `renewBesideLivePath`). Status shows
    /// such a peer "re-establishing" at once, instead of "connected" (its handshake stays under three minutes old)
    /// until the retry fails.
    var pathLostAt: Int64?
    /// Attempts to get off a relayed pair (see PeerSession+Upgrade).
    var upgrade = Backoff(initialMilliseconds: 30_000, maximumMilliseconds: 300_000)
    var nextUpgradeAt: Int64?
    /// When the last early try off a relay prepared on suspicion was scheduled (see PeerSession+Upgrade).
    var lastSuspicionRecheckAt: Int64?
    /// The last WireGuard handshake age reported, in seconds.
    public internal(set) var handshakeAge: Int64?
    /// A port hand-over not yet confirmed by WireGuard traffic (see PortHandover.swift).
    var handoverTrial: HandoverTrial?
    /// Set when a hand-over carried no traffic: this peer's reflexive pairs are forwarded for the rest of the run, so
    /// the path does not flap between the two.
    public internal(set) var handoverFailed = false
    /// Whether WireGuard still receives over the path in use (see `ReceiveWatch`).
    var receiveWatch: ReceiveWatch
    /// Whether this side sent to the peer lately (see `SendWatch`).
    var sendWatch: SendWatch
    /// No relay is prepared on suspicion before this time (mesh clock): set when one was given up because the path
    /// spoke again, so a tunnel whose keepalives come late does not open a TURN allocation every few seconds.
    var nextSuspicionAt: Int64 = 0
    /// When a signal this pair's exchange depends on was first written since the last selected pair (mesh clock), or
    /// nil: the hub gives no receipt, so a connection lost or replaced may have taken it along (Mesh+LostSignals).
    var signalAtRiskSince: Int64?
    /// Controlled side: we sent `restart` since the last offer, so the next generation answers our own request (our
    /// network changed, or our path went quiet) and may need every candidate of ours (see `acceptOffer`).
    var askedForGeneration = false
    /// When the hub said the peer left (or a welcome no longer listed it) while its tunnel still worked, mesh clock;
    /// nil while the hub lists it. Such a peer keeps its tunnel only as long as it works (Mesh+AbsentPeers).
    public internal(set) var absentFromHubSince: Int64?
    /// When the hub last introduced the peer (this session's creation, or its `peer_joined` since), mesh clock: a
    /// generation started before that was made for the peer's previous hub session, perhaps a previous run of its
    /// agent, so it does not answer that agent's fresh start (`Mesh.restartRequested`).
    var presentSince: Int64

    /// The most candidates buffered before their description arrives.
    static let maximumPendingCandidates = 64

    init(info: PeerInfo, me: PublicKey, now: Int64) {
        self.info = info
        self.me = me
        self.controlling = me < info.publicKey
        self.attemptStartedAt = now
        self.presentSince = now
        self.receiveWatch = ReceiveWatch(now: now)
        self.sendWatch = SendWatch(now: now)
    }

    /// The runtime's ICE session for the current generation.
    public var instance: UInt64? { current?.instance }
    /// ICE connectivity of the current generation (`idle` between generations).
    public var connectivity: ICEConnectivity { current?.connectivity ?? .idle }
    /// Whether the current generation gathers relayed candidates only.
    public var relayOnly: Bool { current?.relayOnly ?? false }

    /// Whether the WireGuard handshake is recent enough to call the peer connected.
    public var isConnected: Bool { handshakeAge.map { $0 < Self.staleHandshakeSeconds } ?? false }

    /// A generation is exchanging descriptions and checks and has selected no pair yet.
    var isNegotiating: Bool { current != nil && current?.selectedPair == nil }

    /// Connected, and ICE still holds its pair: nothing to renegotiate.
    var isHealthy: Bool { isConnected && (connectivity == .ready || connectivity == .connected) }

    // MARK: Starting a generation

    /// Controlling side: start a new ICE generation (the first, or a restart) with a fresh ICE session. With
    /// `keepWorkingPath` a session that still carries traffic stays open until the new one selects a pair; with
    /// `offRelay` it gathers no relayed candidate of ours (PeerSession+Upgrade).
    mutating func beginGeneration(ids: inout GenerationIDs, forceRelay: Bool, now: Int64,
                                  keepWorkingPath: Bool = false, offRelay: Bool = false) -> [MeshAction] {
        precondition(controlling)
        var actions = keepWorkingPath ? retireCurrentICE(now: now) : closeCurrentICE()
        // Generations are 0...2^32-1 on the wire (PROTOCOL.md §8); past the last one, a new session starts at 0.
        if session == nil || generation >= Int64(UInt32.max) {
            session = ids.sessionID()
            generation = 0
        } else {
            generation += 1
        }
        attemptStartedAt = now
        var started = Generation(instance: ids.instance(), relayOnly: forceRelay)
        started.failedAttemptsBefore = recovery.attempts
        started.seeksPathOffRelay = offRelay && !forceRelay
        current = started
        actions.append(.startICE(peer: info.publicKey, instance: started.instance, controlling: true,
                                 scope: started.candidateScope))
        return actions
    }

    /// Controlled side: an offer arrived. Stale or duplicate offers are ignored (empty result). The offer decides whether
    /// this generation is relay-only: both sides must gather the same kinds of candidates.
    mutating func acceptOffer(_ payload: SignalPayload, ids: inout GenerationIDs, now: Int64) -> [MeshAction] {
        guard !controlling, case .description(let ice, let wireguard) = payload.body else { return [] }
        if payload.session == session, payload.generation <= generation, current != nil { return [] }
        noteFailedAttempt()  // a generation still checking when the peer gave up on it
        // Make before break: a path that works keeps carrying traffic until the new generation selects a pair.
        var actions = retireCurrentICE(now: now)
        session = payload.session
        generation = payload.generation
        attemptStartedAt = now
        var started = Generation(instance: ids.instance(), relayOnly: payload.relayOnly)
        // A normal generation that arrives while our relayed pair still carries traffic, and that we did not ask for,
        // is the peer's try off the relay (PeerSession+Upgrade): a pair on our relay would only move the tunnel from
        // one relay to another, a path change for nothing (PROTOCOL.md §10.4).
        // Likewise one we did not ask for that arrives while a path off any relay still carries here (WireGuard heard
        // the peer within 2 s): the peer's renewal beside it (`renewBesideLivePath`), which it gathers without its own
        // relay too; a pair on ours would only move a working tunnel to the relay until the next try off it (seen at
        // 20 % loss: the renewal's checks outlasted the relay hold, and our relay's pair was selected). One we asked
        // for (our network changed, say) gathers everything: our relay may be all that works from here now.
        let offRelay = standby != nil && !askedForGeneration && (standby?.isOnRelay == true || carriesWithoutICE(now: now))
        started.seeksPathOffRelay = !payload.relayOnly && offRelay
        askedForGeneration = false
        if !payload.relayOnly, !started.seeksPathOffRelay { started.relayHoldEndsAt = now + Self.relayHoldMilliseconds }
        started.remoteListenPort = wireguard.listenPort
        started.remoteHostEndpoints = Set(ice.candidates.compactMap(HostEndpoint.init(hostCandidate:)))
        for line in ice.candidates { started.remoteKinds.count(line: line) }
        current = started
        actions.append(.startICE(peer: info.publicKey, instance: started.instance, controlling: false,
                                 scope: started.candidateScope))
        actions.append(.setRemoteDescription(peer: info.publicKey, instance: started.instance, ufrag: ice.ufrag,
                                             pwd: ice.pwd, candidates: ice.candidates))
        actions += flushPending()
        return actions
    }

    /// Controlled side: a `restart` asking the peer for a new generation (PROTOCOL.md §8), remembered so that the
    /// generation it brings gathers every candidate of ours.
    mutating func restartRequest(session requested: String, reason: String) -> MeshAction {
        askedForGeneration = true
        return .sendSignal(payload(.restart, session: requested, body: .restart(reason: reason)))
    }

    /// Counts the current generation as a failed attempt (`failedGenerationsInARow`) if it has no pair, was not
    /// counted yet, and no standby carries the traffic beside it: whichever side notices the failure first (its own
    /// ICE failing, the peer's `restart`, a new offer, a deadline), both sides count each such generation once.
    mutating func noteFailedAttempt() {
        guard var ending = current, ending.selectedPair == nil, !ending.countedAsFailed, standby == nil else { return }
        ending.countedAsFailed = true
        current = ending
        failedGenerationsInARow += 1
    }

    /// Closes the current generation's ICE session, if any.
    mutating func closeCurrentICE() -> [MeshAction] {
        guard let closing = current else { return [] }
        current = nil
        return [.closeICE(peer: info.publicKey, instance: closing.instance)]
    }

    /// Forget all ICE state (the peer left).
    mutating func close() -> [MeshAction] { closeCurrentICE() + closeStandby() }

    // MARK: Signaling

    /// The runtime created the ICE session: send our description (empty candidate list; candidates trickle).
    mutating func iceStarted(instance started: UInt64, ufrag: String, pwd: String, listenPort: UInt16, now: Int64) -> [MeshAction] {
        guard started == current?.instance, let session else { return [] }
        current?.localCredentials = (ufrag, pwd)
        current?.gatheringSince = now
        let description = SignalPayload.Body.description(
            ICEDescription(ufrag: ufrag, pwd: pwd, candidates: []), WireGuardParameters(publicKey: me, listenPort: listenPort))
        var message = payload(controlling ? .offer : .answer, session: session, body: description)
        message.relayOnly = controlling && relayOnly
        return [.sendSignal(message)]
    }

    /// A local candidate was gathered: trickle it.
    mutating func localCandidate(instance from: UInt64, _ candidate: String, now: Int64) -> [MeshAction] {
        guard from == current?.instance, current?.localCredentials != nil, let session else { return [] }
        if let host = HostEndpoint(hostCandidate: candidate) { current?.localHostEndpoints.insert(host) }
        current?.localKinds.count(line: candidate)
        if current?.serverAnswerTook == nil, let generation = current, let since = generation.gatheringSince,
           generation.localKinds.serverReflexive + generation.localKinds.relayed > 0 {
            current?.serverAnswerTook = now - since  // the first candidate a STUN or TURN server gave us
        }
        if holdsRelayCandidates, Self.isRelayed(candidate) {
            current?.heldRelayCandidates.append(candidate)
            return []
        }
        return [.sendSignal(payload(.candidate, session: session, body: .candidate(candidate)))]
    }

    /// Local gathering finished.
    mutating func localGatheringDone(instance from: UInt64) -> [MeshAction] {
        guard from == current?.instance, current?.localCredentials != nil, let session else { return [] }
        current?.localKinds.complete = true
        if holdsRelayCandidates, current?.heldRelayCandidates.isEmpty == false {
            current?.heldEndOfCandidates = true
            return []
        }
        return [.sendSignal(payload(.endOfCandidates, session: session, body: .endOfCandidates))]
    }

    /// Controlling side: the answer to our current generation arrived.
    mutating func acceptAnswer(_ payload: SignalPayload) -> [MeshAction] {
        guard controlling, payload.session == session, payload.generation == generation, var answered = current,
              !answered.hasRemoteDescription, case .description(let ice, let wireguard) = payload.body else { return [] }
        answered.remoteListenPort = wireguard.listenPort
        answered.remoteHostEndpoints.formUnion(ice.candidates.compactMap(HostEndpoint.init(hostCandidate:)))
        for line in ice.candidates { answered.remoteKinds.count(line: line) }
        current = answered
        return [.setRemoteDescription(peer: info.publicKey, instance: answered.instance, ufrag: ice.ufrag, pwd: ice.pwd,
                                      candidates: ice.candidates)] + flushPending()
    }

    /// A trickled remote candidate or end-of-candidates: applied, buffered until its description, or dropped as stale.
    mutating func acceptTrickle(_ payload: SignalPayload) -> [MeshAction] {
        let isCurrent = payload.session == session && payload.generation == generation && current != nil
        if isCurrent, current?.hasRemoteDescription == true {
            noteRemoteTrickle(payload)
            return apply(payload) + reclassifyPath(after: payload)
        }
        // Buffer what belongs to the current generation, or (controlled side) to an offer not seen yet.
        let isAhead = !controlling && (payload.session != session || payload.generation > generation)
        if (isCurrent || isAhead), pendingTrickle.count < Self.maximumPendingCandidates {
            pendingTrickle.append(payload)
        }
        return []
    }

    /// A trickled host candidate may name the remote end of the selected pair, which ICE labelled peer-reflexive
    /// because the peer's check came first: the pair is host-to-host after all, so choose the path again.
    private mutating func reclassifyPath(after payload: SignalPayload) -> [MeshAction] {
        guard case .candidate(let line) = payload.body, let host = HostEndpoint(hostCandidate: line),
              current?.remoteHostEndpoints.insert(host).inserted == true,
              let generation = current, let pair = generation.selectedPair, HostEndpoint(pair.remote) == host else { return [] }
        return pairSelected(instance: generation.instance, local: pair.local, remote: pair.remote,
                            now: generation.pathSince ?? 0)
    }

    private func apply(_ payload: SignalPayload) -> [MeshAction] {
        guard let instance else { return [] }
        switch payload.body {
        case .candidate(let line): return [.addRemoteCandidate(peer: info.publicKey, instance: instance, candidate: line)]
        case .endOfCandidates: return [.remoteGatheringDone(peer: info.publicKey, instance: instance)]
        default: return []
        }
    }

    /// Applies buffered trickle of the current generation; keeps newer ones, drops older ones.
    private mutating func flushPending() -> [MeshAction] {
        let buffered = pendingTrickle
        pendingTrickle = []
        var actions: [MeshAction] = []
        for payload in buffered {
            if payload.session == session, payload.generation == generation {
                noteRemoteTrickle(payload)
                actions += apply(payload)
                if case .candidate(let line) = payload.body, let host = HostEndpoint(hostCandidate: line) {
                    current?.remoteHostEndpoints.insert(host)
                }
            } else if payload.session == session, payload.generation > generation {
                pendingTrickle.append(payload)
            }
        }
        return actions
    }

    /// Counts a trickled remote candidate (or the end of them) of the current generation, for `RelayExplanation`.
    private mutating func noteRemoteTrickle(_ payload: SignalPayload) {
        switch payload.body {
        case .candidate(let line): current?.remoteKinds.count(line: line)
        case .endOfCandidates: current?.remoteKinds.complete = true
        default: break
        }
    }

    func payload(_ kind: SignalKind, session: String, body: SignalPayload.Body) -> SignalPayload {
        SignalPayload(kind: kind, from: me, to: info.publicKey, session: session, generation: generation, body: body)
    }
}
