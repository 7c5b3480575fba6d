import RiftProtocol

/// The agent's view of its network: one `PeerSession` per remote peer, driven by hub, ICE and timer events.
///
/// A plain value with no I/O: `handle(_:)` returns the actions the runtime performs, so the whole negotiation
/// (roles, glare, stale offers, buffering, recovery, hub outages) is tested without sockets or C libraries.
public struct Mesh: Sendable {
    /// This agent's identity.
    public let me: PublicKey
    /// This agent's WireGuard listen port, announced in descriptions.
    public var listenPort: UInt16
    /// The latest welcome, or nil before the first.
    public private(set) var welcome: Welcome?
    /// Whether the hub session is open now.
    public internal(set) var hubConnected = false
    /// The remote peers, by key.
    public internal(set) var peers: [PublicKey: PeerSession] = [:]
    var ids: GenerationIDs
    private(set) var now: Int64 = 0
    /// Peers to start afresh once the hub is back (see `underlayChanged`), with the reason.
    var freshStartsAwaitingHub: [PublicKey: String] = [:]
    /// When each peer last started afresh after a network change, and the fresh starts waiting for that window to end.
    var freshStartedAt: [PublicKey: Int64] = [:]
    var freshStartsAwaitingWindow: [PublicKey: String] = [:]

    /// Creates the mesh for `me`; `sessionID` makes random session ids (injected so tests are deterministic).
    public init(me: PublicKey, listenPort: UInt16, sessionID: @escaping @Sendable () -> String) {
        self.me = me
        self.listenPort = listenPort
        self.ids = GenerationIDs(sessionID: sessionID)
    }

    /// A generation younger than this already answers any restart request.
    static let freshGenerationMilliseconds: Int64 = 5_000

    /// Whether TURN is configured, which allows relay-only recovery.
    var relayAvailable: Bool { !(welcome?.ice.turn.isEmpty ?? true) }

    /// Applies one event and returns what to do.
    public mutating func handle(_ event: MeshEvent) -> [MeshAction] {
        let before = hasAbsentPeers ? peers : [:]
        var actions = apply(event)
        if hasAbsentPeers { actions = removeAbsentPeersThatNeedTheHub(actions, before: before) }
        noteSignalsAtRisk(in: actions)
        return actions
    }

    private mutating func apply(_ event: MeshEvent) -> [MeshAction] {
        switch event {
        case .hubWelcome(let welcome): return hubWelcome(welcome)
        case .hubDisconnected:
            hubConnected = false
            return []
        case .peerJoined(let info): return peerPresent(info, rejoined: true)
        case .peerLeft(let key, let reason): return peerLeft(key, reason: reason)
        case .signal(let payload):
            guard let usable = withoutOverlayCandidates(payload) else { return [] }
            return signal(usable)
        case .iceStarted(let key, let instance, let ufrag, let pwd):
            return peers[key]?.iceStarted(instance: instance, ufrag: ufrag, pwd: pwd, listenPort: listenPort, now: now) ?? []
        case .iceCandidate(let key, let instance, let candidate):
            return peers[key]?.localCandidate(instance: instance, candidate, now: now) ?? []
        case .iceGatheringDone(let key, let instance):
            return peers[key]?.localGatheringDone(instance: instance) ?? []
        case .iceState(let key, let instance, let state):
            return peers[key]?.iceStateChanged(instance: instance, state, now: now) ?? []
        case .iceSelectedPair(let key, let instance, let local, let remote):
            guard !isOnOverlay(remote) else { return [] }
            let actions = peers[key]?.pairSelected(instance: instance, local: local, remote: remote, now: now) ?? []
            settleSignals(of: key)
            return actions
        case .handoverBypassed(let key, let instance):
            return peers[key]?.handoverBypassed(instance: instance, now: now) ?? []
        case .tick(let nowMilliseconds, let ages, let traffic):
            now = nowMilliseconds
            return tick(ages, traffic) + freshStartsAfterWindow()
        case .underlayChanged(let vanished, let appeared, let routeChanged):
            return underlayChanged(vanished: vanished, appeared: appeared, routeChanged: routeChanged)
        case .resumed(let reason):
            return startAfresh(Set(peers.keys), reason: reason)
        }
    }

    private mutating func hubWelcome(_ welcome: Welcome) -> [MeshAction] {
        self.welcome = welcome
        hubConnected = true
        var actions: [MeshAction] = []
        let present = Set(welcome.peers.map(\.publicKey))
        // After a hub outage, keep tunnels that still work even if their peer has not reconnected to the hub yet
        // (Mesh+AbsentPeers).
        for key in peers.keys.sorted() where !present.contains(key) {
            if peers[key]?.carriesTraffic(now: now) == true { keepWhileAbsent(key) } else { actions += removePeer(key) }
        }
        // Every welcome is a new connection: signals written on the one before (or dropped while there was none) may
        // be lost (Mesh+LostSignals). Resume each exchange that may depend on one now, instead of waiting for its
        // deadline. Peers whose fresh start already waited for this welcome are started below anyway.
        let interrupted = Set(peers.filter { key, session in
            present.contains(key) && session.mayHaveLostSignal && freshStartsAwaitingHub[key] == nil
        }.keys)
        for info in welcome.peers where info.publicKey != me {
            actions += peerPresent(info, rejoined: false)
        }
        return actions + freshStartsAfterReconnect()
            + startAfresh(interrupted, ignoringWindow: true,
                          reason: "signals to the peer may have been lost with the hub connection")
    }

    private mutating func peerPresent(_ info: PeerInfo, rejoined: Bool) -> [MeshAction] {
        guard info.publicKey != me else { return [] }
        if var session = peers[info.publicKey] {
            let changed = session.info != info
            session.info = info
            session.absentFromHubSince = nil
            var actions: [MeshAction] = []
            if changed, let path = session.path, let instance = session.instance {
                actions += session.configureWireGuard(path: path, instance: instance)
            }
            // A peer that joins again may have restarted its agent and lost its ICE state: the controlling side
            // re-offers — unless the tunnel is healthy, which means the hub restarted, not the peer (a restarted
            // peer that is controlled asks for a restart itself, see below).
            var resumeLostSignals = false
            if rejoined { session.presentSince = now }
            if rejoined, session.controlling, !session.isHealthy {
                session.lastRecoveryReason = "the peer joined the hub again"
                actions += session.beginGeneration(ids: &ids, forceRelay: false, now: now)
            } else if rejoined, session.mayHaveLostSignal {
                // Its hub connection was replaced or lost, and with it what the hub wrote there (Mesh+LostSignals).
                resumeLostSignals = true
            }
            peers[info.publicKey] = session
            guard resumeLostSignals else { return actions }
            return actions + startAfresh([info.publicKey], ignoringWindow: true,
                                         reason: "signals to the peer may have been lost with its hub connection")
        }
        var session = PeerSession(info: info, me: me, now: now)
        var actions: [MeshAction] = []
        if session.controlling {
            actions = session.beginGeneration(ids: &ids, forceRelay: false, now: now)
        } else if !rejoined {
            // We are new and the peer was already there: if it still holds ICE state from our previous run it would
            // wait for a dead session to fail; ask it to offer afresh now. A fresh controlling peer ignores this.
            actions = [session.restartRequest(session: "none", reason: "agent started")]
        }
        peers[info.publicKey] = session
        return actions
    }

    mutating func removePeer(_ key: PublicKey) -> [MeshAction] {
        freshStartedAt[key] = nil
        freshStartsAwaitingWindow[key] = nil
        freshStartsAwaitingHub[key] = nil
        guard var session = peers.removeValue(forKey: key) else { return [] }
        return session.close() + [.removeWireGuardPeer(key)]
    }

    private mutating func signal(_ payload: SignalPayload) -> [MeshAction] {
        guard payload.to == me, var peer = peers[payload.from] else { return [] }
        let actions: [MeshAction]
        switch payload.kind {
        case .offer: actions = peer.acceptOffer(payload, ids: &ids, now: now)
        case .answer: actions = peer.acceptAnswer(payload)
        case .candidate, .endOfCandidates: actions = peer.acceptTrickle(payload)
        case .restart: actions = restartRequested(payload, of: &peer)
        }
        peers[payload.from] = peer
        return actions
    }

    /// The controlled side asked for a new generation. Where a relay can be prepared beside a path that works here,
    /// that is the answer (PeerSession+Suspicion). Otherwise ignored while a fresh generation is under way (it already
    /// is the restart) or during backoff. A request with session "none" comes from an agent that just started (or
    /// whose candidates are gone): not a failure, so it starts a normal generation at once, unless a fresh one began
    /// since the hub introduced the peer again (one begun before was made for its previous run, which is gone); any
    /// other request counts as a failure like one seen here.
    private mutating func restartRequested(_ payload: SignalPayload, of peer: inout PeerSession) -> [MeshAction] {
        guard peer.controlling else { return [] }
        let reason: String
        if case .restart(let text) = payload.body { reason = text } else { reason = "restart" }
        // Make before break where a relay can be prepared beside a path that works here (the peer may have seen the
        // cut first): a generation that selected its pair is no restart under way, however young.
        if payload.session != "none",
           let prepared = peer.prepareOnRequest(reason: reason, now: now, relayAvailable: relayAvailable, ids: &ids) {
            return prepared
        }
        let freshGeneration = peer.current != nil && now - peer.attemptStartedAt < Self.freshGenerationMilliseconds
        if payload.session == "none" {
            guard !freshGeneration || peer.attemptStartedAt < peer.presentSince else { return [] }
            peer.recovery.reset()
            peer.failedGenerationsInARow = 0  // the peer restarted: its earlier failures say nothing now
            peer.nextRecoveryAt = 0
            peer.lastRecoveryReason = "peer started afresh: \(reason)"
            // Make before break: a path that works here keeps carrying until the new generation selects a pair (the
            // peer's network changed, or its ICE session ended under a path that still carries). Beside a working
            // path that does not run through our relay, the new generation gathers no relayed candidate of ours:
            // libnice nominates the first pair that succeeds, and a pair on our relay, whose TURN permission lets its
            // first check through where a reflexive pair's first check meets the peer's NAT still closed, moved a
            // tunnel that worked off its direct path for half a second (seen at 5 % loss: relay, then the reflexive
            // pair again). Where the direct pair no longer works, the peer's relayed candidates still pair with ours.
            let working = peer.isHealthy
            return peer.beginGeneration(ids: &ids, forceRelay: false, now: now, keepWorkingPath: working,
                                        offRelay: working && peer.path != .forwarded)
        }
        // A relay prepared on suspicion is this same failure seen first here (PeerSession+Suspicion).
        guard !freshGeneration, now >= peer.nextRecoveryAt, !peer.preparingRelayOnSuspicion else { return [] }
        // The peer's path went silent, and so did ours: the same cut, seen first over there (see `pathWentSilent`).
        let relayFirst = peer.receiveWatch.silence(now: now) >= ReceiveWatch.silenceDeadline / 2 && !peer.isRelayed
        return peer.restartAfterFailure(reason: "peer asked: \(reason)", now: now, relayAvailable: relayAvailable,
                                        relayFirst: relayFirst, ids: &ids)
    }

    private mutating func tick(_ ages: [PublicKey: Int64], _ traffic: [PublicKey: TrafficCounters]) -> [MeshAction] {
        var actions: [MeshAction] = []
        let relay = relayAvailable
        for key in peers.keys.sorted() {
            guard var peer = peers[key] else { continue }
            actions += peer.keepaliveDue(now: now, traffic: traffic[key])
            actions += peer.endRelayHold(now: now)
            actions += peer.checkLiveness(now: now, handshakeAge: ages[key], traffic: traffic[key], ids: &ids,
                                          relayAvailable: relay)
            actions += peer.probeIfQuiet(now: now)
            peers[key] = peer
        }
        return actions
    }
}

/// Where new generations get their identifiers: runtime ICE instance numbers (never reused in one run) and random
/// session ids (injected so tests are deterministic).
struct GenerationIDs: Sendable {
    private var nextInstance: UInt64 = 1
    private let makeSessionID: @Sendable () -> String

    init(sessionID: @escaping @Sendable () -> String) { makeSessionID = sessionID }

    /// A fresh instance number.
    mutating func instance() -> UInt64 {
        defer { nextInstance += 1 }
        return nextInstance
    }

    /// A fresh random session id.
    func sessionID() -> String { makeSessionID() }
}
