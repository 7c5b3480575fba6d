import RiftProtocol

extension PeerSession {
    /// How long a configured path may go without any WireGuard handshake before recovery starts, in milliseconds.
    static let firstHandshakeDeadline: Int64 = 20_000
    /// A handshake older than this (seconds) means the peer is not connected (WireGuard's REJECT_AFTER_TIME).
    static let staleHandshakeSeconds: Int64 = 180

    /// ICE changed state. Failure (or a session that lost all activity) starts recovery at the next tick, or, while a
    /// standby session still carries the traffic, gives up the new generation at once and keeps the standby. A standby
    /// that fails is closed, unless its path does not run through libnice and WireGuard still hears the peer over it
    /// (the renewal's case, `renewBesideLivePath`: the standby whose consent is lost is the path being renewed).
    mutating func iceStateChanged(instance from: UInt64, _ state: ICEConnectivity, now: Int64) -> [MeshAction] {
        if from == standby?.instance {
            standby?.connectivity = state
            return state.isLost && !carriesWithoutICE(now: now) ? closeStandby() : []
        }
        guard from == current?.instance else { return [] }
        current?.connectivity = state
        if state.isLost, standby != nil {
            coolDownSuspicion(now: now)
            return revertToStandby()
        }
        // A path that died is recovered at the next tick. A generation that failed before it had a pair is a failed
        // attempt: the backoff set when it began decides when the next one starts (2 s after it, doubling up to a
        // minute). Pulling the next recovery forward for those too made a pair that cannot connect retry as fast as
        // ICE fails (every ~7 s, libnice's check timeouts) for as long as it failed.
        if state.isLost {
            if current?.selectedPair == nil {
                noteFailedAttempt()
            } else {
                nextRecoveryAt = min(nextRecoveryAt, now)
            }
        }
        return []
    }

    /// ICE selected a pair: choose the data path. Host-to-host pairs go direct; a pair whose local end is this side's
    /// TURN relay is forwarded (only the agent speaks TURN); every other pair — server- and peer-reflexive, and one
    /// whose remote end is the peer's relay — is handed over (`PortHandover`) unless a hand-over with this peer failed
    /// before. Each side decides for its own end: in a pair (relay, reflexive) one side forwards, the other hands over.
    ///
    /// An end counts as host when ICE labels it so *or* when its owner signaled that address and port as a `typ host`
    /// candidate in this generation (PROTOCOL.md §9.2): a library labels a remote host candidate peer-reflexive when
    /// its check arrived before the trickled candidate, and both sides must classify the same pair the same way.
    mutating func pairSelected(instance from: UInt64, local: CandidateEndpoint, remote: CandidateEndpoint, now: Int64) -> [MeshAction] {
        guard var selecting = current, selecting.instance == from else { return [] }
        selecting.selectedPair = (local, remote)
        failedGenerationsInARow = 0
        pathLostAt = nil
        let mode: DataPathMode
        let localIsHost = local.kind == .host || selecting.localHostEndpoints.contains(HostEndpoint(local))
        let remoteIsHost = remote.kind == .host || selecting.remoteHostEndpoints.contains(HostEndpoint(remote))
        let pairName = "\(local.kind.rawValue)-to-\(remote.kind.rawValue) pair"
        if localIsHost, remoteIsHost, let remoteListenPort = selecting.remoteListenPort {
            mode = .direct(address: remote.address, port: remoteListenPort)
            pathReason = "host-to-host pair: WireGuard sends straight to the remote listen port"
        } else if let handover = handover(local: local, remote: remote, localIsHost: localIsHost, remoteIsHost: remoteIsHost) {
            mode = .handedOver(handover)
            let target = remote.kind == .relayed ? "the peer's TURN relay" : "the remote candidate"
            pathReason = "\(pairName): WireGuard sends to \(target) from the ICE socket's port \(handover.local.port) (port hand-over, no userspace hop)"
        } else {
            mode = .forwarded
            pathReason = "\(pairName): forwarded over the ICE component"
                + (handoverFailed && local.kind != .relayed ? " (an earlier port hand-over carried no traffic)" : "")
        }
        var actions: [MeshAction] = []
        if mode != path || selecting.pathSince == nil {
            if case .handedOver = mode {
                handoverTrial = HandoverTrial(hadSession: isConnected)
            } else {
                handoverTrial = nil
            }
            path = mode
            selecting.pathSince = now
            receiveWatch.restart(now: now)
            actions += configureWireGuard(path: mode, instance: selecting.instance)
        }
        current = selecting
        // WireGuard now uses this generation's pair: the standby that carried the traffic until now can go.
        return actions + closeStandby()
    }

    /// A keepalive when this side sent nothing for a second over a working tunnel (see `SendWatch`): only with a path
    /// configured and a handshake seen (before that, WireGuard's own first handshake is `nudgeFirstHandshake`'s
    /// business, and a keepalive without a session would only start another one).
    mutating func keepaliveDue(now: Int64, traffic: TrafficCounters?) -> [MeshAction] {
        let due = sendWatch.keepaliveDue(traffic, now: now)
        guard due, path != nil, isConnected else { return [] }
        return [.sendKeepalive(info.publicKey)]
    }

    /// A probe through the tunnel when the path in use has been quiet past `ReceiveWatch.probeAfter` while this side
    /// sends (see `ReceiveWatch.isProbeDue(now:)`): only with a path configured and a handshake seen. Called after
    /// `checkLiveness` has read this tick's counters.
    func probeIfQuiet(now: Int64) -> [MeshAction] {
        guard path != nil, isConnected, receiveWatch.isProbeDue(now: now) else { return [] }
        return [.probePath(info)]
    }

    /// How long one negotiation may take before it is retried, in milliseconds.
    static let negotiationDeadline: Int64 = 15_000

    /// Periodic liveness check. Returns recovery actions when the path is dead or negotiation is stuck: an ICE restart
    /// from the controlling side (see `restartAfterFailure`), a restart request from the controlled side, with capped
    /// backoff.
    mutating func checkLiveness(now: Int64, handshakeAge age: Int64?, traffic: TrafficCounters? = nil,
                                ids: inout GenerationIDs, relayAvailable: Bool) -> [MeshAction] {
        let handoverActions = checkHandover(now: now, handshakeAge: age, received: traffic?.received)
        if !handoverActions.isEmpty {
            handshakeAge = age
            return handoverActions
        }
        handshakeAge = age
        receiveWatch.observe(traffic, now: now)
        // Judged whatever generation runs: the retry a restart request began has no path of its own yet, and WireGuard
        // still sends over the old one.
        if let lost = pathLostAt, receiveWatch.receivedAt > lost {
            pathLostAt = nil  // the peer was heard again
        } else if pathLostAt == nil, path != nil, receiveWatch.isDead(now: now) {
            pathLostAt = now
        }
        if let abandoned = abandonSuspicionIfHeard(now: now) { return abandoned }
        if age == nil, let nudge = nudgeFirstHandshake(now: now) { return nudge }
        let pathSince = current?.pathSince
        // A hand-over on trial is judged by its own rule (PeerSession+Handover.swift): a silent one falls back to
        // forwarding the same pair, instead of restarting ICE, which would select that pair and hand it over again.
        if pathSince != nil, handoverTrial == nil {
            if let early = startOnSuspicion(now: now, relayAvailable: relayAvailable, ids: &ids) { return early }
            if let asked = askOnSuspicion(now: now, relayAvailable: relayAvailable) { return asked }
            if receiveWatch.isDead(now: now) { return pathWentSilent(now: now, relayAvailable: relayAvailable, ids: &ids) }
        }
        if standby != nil, current?.selectedPair == nil, now - attemptStartedAt > Self.negotiationDeadline {
            coolDownSuspicion(now: now)
            return revertToStandby()  // the new generation found no pair in time; the standby never stopped working
        }
        // A generation that found no pair in time is retried even while WireGuard keeps an older path: its signals
        // may have been lost (the hub connection went down with the path, as when a NAT router reboots), and the
        // older path is the one this generation was started to replace. Without this rule the pair waited for the
        // old handshake to go stale, up to three minutes. (A generation beside a working standby is given up above.)
        if standby == nil, path != nil, isNegotiating, now - attemptStartedAt > Self.negotiationDeadline {
            return recover(reason: "negotiation did not finish", now: now, relayAvailable: relayAvailable, ids: &ids)
        }
        // Lost consent restarts ICE on every path, direct ones included: WireGuard renews its handshake only every two
        // minutes, so a fresh-looking handshake says little about a path that died seconds ago, and waiting for it to
        // go stale would leave a dead direct path in place for up to three minutes. The restart does not interrupt a
        // direct tunnel that still works: WireGuard keeps its endpoint until the new generation selects a pair.
        // The backoff starts over only once the current generation has a pair: while a retry is still negotiating,
        // the handshake is the dead path's (up to three minutes old) and says nothing about the retry, and resetting
        // then let every failed retry start the next one at once (a path cut without TURN was retried every ~7 s,
        // each retry's checks running out, for three minutes, and the failures never counted).
        if let age, age < Self.staleHandshakeSeconds, !connectivity.isLost {
            if !isNegotiating {
                if recovery.attempts > 0 { recovery.reset() }
                nextRecoveryAt = 0
            }
            return considerUpgrade(now: now, ids: &ids)
        }
        if let renewed = renewBesideLivePath(now: now, ids: &ids) { return renewed }
        let reason: String
        if connectivity == .failed {
            reason = "ICE failed or consent lost"
        } else if connectivity == .disconnected {
            reason = "ICE session stopped (disconnected)"
        } else if let age, age >= Self.staleHandshakeSeconds {
            reason = "WireGuard handshake is stale"
        } else if path != nil, let pathSince, now - pathSince > Self.firstHandshakeDeadline {
            reason = "no WireGuard handshake over the selected path"
        } else if path == nil, now - attemptStartedAt > Self.negotiationDeadline {
            reason = "negotiation did not finish"  // with an older path, the rule above applies
        } else {
            return []
        }
        return recover(reason: reason, now: now, relayAvailable: relayAvailable, ids: &ids)
    }

    /// How recently WireGuard must have heard the peer for a pair whose ICE consent was lost to count as still carrying,
    /// in milliseconds: a keepalive interval and a lost keepalive.
    static let liveDespiteICEWindow: Int64 = 2_000

    /// Whether WireGuard's path, direct or handed over, does not run through libnice and WireGuard heard the peer
    /// over it within `liveDespiteICEWindow`: the path carries whatever ICE says of its pair.
    func carriesWithoutICE(now: Int64) -> Bool {
        guard let path, path != .forwarded else { return false }
        return now - receiveWatch.receivedAt < Self.liveDespiteICEWindow
    }

    /// libnice declared the pair in use failed (consent lost), but WireGuard still hears the peer over a path that
    /// does not run through libnice (direct, or handed over to WireGuard's port): the path carries, only ICE's view
    /// of it is gone. libnice 0.1.21 checks consent every 4–6 s without retransmitting and gives up 10 s after the
    /// last answer, so on a link losing a few percent of its packets one lost check or answer was enough: measured
    /// at 5 % loss each way, half the minutes had a "failure", each moving the tunnel to the relay until the next
    /// try off it. So the session is renewed beside the path, make before break, and is no failure: the controlling
    /// side begins a normal generation and keeps the old session (its socket carries a handed-over path) until the
    /// new one selects a pair; the controlled side asks for that with `restart`, session "none" (PROTOCOL.md §8: not
    /// a failure of the pair). Renewals back off like recoveries. A forwarded path runs through libnice, so its
    /// failure stays a failure; a path WireGuard no longer hears is left to the rules below. Nil when not this case;
    /// empty while the backoff runs.
    mutating func renewBesideLivePath(now: Int64, ids: inout GenerationIDs) -> [MeshAction]? {
        guard connectivity.isLost, standby == nil, isConnected, let generation = current, generation.selectedPair != nil,
              carriesWithoutICE(now: now) else { return nil }
        // A peer the hub no longer lists cannot take part in a renewal; WireGuard still hears it over this path.
        guard now >= nextRecoveryAt, absentFromHubSince == nil else { return [] }
        let reason = "ICE consent lost while WireGuard still receives over the path"
        nextRecoveryAt = now + Int64(recovery.nextDelay())
        if controlling {
            lastRecoveryReason = "\(reason): renewed beside it"
            standby = generation  // keeps the session (and a hand-over's socket) until the new generation selects
            current = nil
            // Without our relay, as an answer to the peer's `"none"` is (`Mesh.restartRequested`): the path does not
            // run through it, and a pair on it could be selected first and move the tunnel off the path it renews.
            return beginGeneration(ids: &ids, forceRelay: false, now: now, offRelay: true)
        }
        attemptStartedAt = now
        lastRecoveryReason = "\(reason): asked the peer to renew it"
        return [restartRequest(session: "none", reason: reason)]
    }

    /// The current generation's path stopped delivering (see `ReceiveWatch`), seconds before ICE consent would say so.
    /// The next generation goes straight to the relay when one is known and the dead path was not relayed: that is
    /// the pair most likely to work at once, and the upgrade (PeerSession+Upgrade) brings the tunnel back to a direct
    /// pair, make before break, once one works again. Without a relay, or when the relay itself went silent, the next
    /// generation tries every pair.
    private mutating func pathWentSilent(now: Int64, relayAvailable: Bool, ids: inout GenerationIDs) -> [MeshAction] {
        let silent = receiveWatch.silence(now: now)
        return recover(reason: "WireGuard received nothing for \(silent) ms while sending", now: now,
                       relayAvailable: relayAvailable, relayFirst: !isRelayed, ids: &ids)
    }

    /// Starts recovery for `reason` unless backoff says wait: the controlling side begins a new generation, the
    /// controlled side asks it to.
    private mutating func recover(reason: String, now: Int64, relayAvailable: Bool, relayFirst: Bool = false,
                                  ids: inout GenerationIDs) -> [MeshAction] {
        guard now >= nextRecoveryAt else { return [] }
        if controlling {
            return restartAfterFailure(reason: reason, now: now, relayAvailable: relayAvailable, relayFirst: relayFirst,
                                       ids: &ids)
        }
        noteFailedAttempt()
        nextRecoveryAt = now + Int64(recovery.nextDelay())
        attemptStartedAt = now
        lastRecoveryReason = reason
        return [restartRequest(session: session ?? "none", reason: reason)]
    }

    /// Controlling side: the next generation after a failure, whether this side saw it (`checkLiveness`) or the
    /// controlled side reported it with `restart`. Every failure counts toward the backoff. When a TURN server is known
    /// the generation right after a failure is relay-only (`relayOnlyAfter(failures:)`), and the offer carries that
    /// decision, so both sides gather the same kinds of candidates (a pair where one side offers relays only and the
    /// other everything can keep failing forever). With `relayFirst` (a path that went silent) it is relay-only too.
    mutating func restartAfterFailure(reason: String, now: Int64, relayAvailable: Bool, relayFirst: Bool = false,
                                      ids: inout GenerationIDs) -> [MeshAction] {
        precondition(controlling)
        noteFailedAttempt()
        let relayOnly = relayAvailable && (relayFirst || Self.relayOnlyAfter(failures: recovery.attempts + 1))
        nextRecoveryAt = now + Int64(recovery.nextDelay())
        lastRecoveryReason = reason
        return beginGeneration(ids: &ids, forceRelay: relayOnly, now: now)
    }

    /// Whether the generation after `failures` consecutive failed attempts (1 or more) is relay-only, TURN known.
    ///
    /// The first retry is: a normal generation gathers relayed candidates too, so when it fails even its relayed
    /// pairs did not connect, and a mixed retry mostly fails the same way. The NAT lab's case is a TURN server that
    /// refuses to relay to private addresses (coturn's `denied-peer-ip` for RFC 1918): every mixed generation fails
    /// after libnice's check retransmissions (~7.3 s), relay-to-relay included, and only a relay-only one connects —
    /// after one failed generation (~8 s to the first ping) instead of three (~23 s, the old rule). From then on the
    /// generations alternate, mixed after relay-only, so a relay that fails as well (a TURN server down) cannot keep a
    /// pair off a direct path that works again. A relayed tunnel does not stay on the relay: the upgrade
    /// (PeerSession+Upgrade) tries a normal generation beside it, make before break.
    static func relayOnlyAfter(failures: Int) -> Bool { failures % 2 == 1 }
}

/// A candidate's transport address, compared without its ICE label.
struct HostEndpoint: Hashable, Sendable {
    var address: String
    var port: UInt16

    init(_ endpoint: CandidateEndpoint) {
        address = endpoint.address
        port = endpoint.port
    }

    /// The address of a `typ host` candidate line (see `CandidateLine`), or nil for any other type or a line that
    /// does not parse.
    init?(hostCandidate line: String) {
        guard let candidate = CandidateLine(line), candidate.isHost else { return nil }
        address = String(candidate.address)
        port = candidate.port
    }
}

extension PeerSession {
    /// How long after its path was configured a peer that never completed a WireGuard handshake is made to start one
    /// again, in milliseconds: the controlling side first, the controlled side later if that did not help. Over a slow
    /// path, later (`firstHandshakeNudgeAfter`).
    static let firstHandshakeNudge: (controlling: Int64, controlled: Int64) = (1_500, 3_000)

    /// The most `pathSlowness` counts, in milliseconds.
    static let slownessCap: Int64 = 3_000

    /// How slow this side's paths look, in milliseconds: how long the current generation waited for its first answer
    /// from a STUN or TURN server (`Generation.serverAnswerTook`: milliseconds at home or in a data centre, over a
    /// second behind a satellite link), capped at `slownessCap`; 0 without such a server. The first handshake's timers
    /// stretch by it: WireGuard's handshake collision (below) and a nudge that restarts a handshake still on its way
    /// both cost a 5 s retry. (How long the checks took to select a pair was tried first: it also counts how late
    /// candidates and NAT holes came, which has nothing to do with the round trip.)
    var pathSlowness: Int64 { min(current?.serverAnswerTook ?? 0, Self.slownessCap) }

    /// When `nudgeFirstHandshake` acts on this side, in milliseconds after the path was configured: a second more
    /// than the path's slowness at least, twice that on the controlled side.
    var firstHandshakeNudgeAfter: Int64 {
        let controllingAfter = max(Self.firstHandshakeNudge.controlling, pathSlowness + 1_000)
        return controlling ? controllingAfter : max(Self.firstHandshakeNudge.controlled, 2 * controllingAfter)
    }

    /// WireGuard retries a handshake initiation only after 5 seconds, and ignores requests to send one sooner. When
    /// both sides' first initiations are lost (the controlling side's sent before the other side's path existed,
    /// the controlled side's colliding with it), a new tunnel waited those 5 seconds: about one connection in ten in
    /// the NAT lab. So a path that has carried no handshake 1.5 s after it was configured (3 s on the controlled side)
    /// has its WireGuard peer removed and configured again, which makes WireGuard send a fresh initiation at once.
    /// Once per generation; only before the first handshake (nil age), so a working tunnel is never touched, and only
    /// while ICE still holds the pair (a lost one is recovery's business).
    mutating func nudgeFirstHandshake(now: Int64) -> [MeshAction]? {
        guard let path, let generation = current, let since = generation.pathSince, !generation.handshakeNudged,
              handoverTrial == nil, !generation.connectivity.isLost,
              now - since >= firstHandshakeNudgeAfter
        else { return nil }
        current?.handshakeNudged = true
        return [.restartWireGuardHandshake(info, path: path, instance: generation.instance)]
    }

    /// How long the controlled side waits before its own keepalive (and so its own handshake) starts: long enough for
    /// the controlling side's handshake on a LAN or through NAT, short enough that a lost one costs little
    /// (PROTOCOL.md §9.5). Over a slow path, its slowness if that is longer (`keepaliveDeferralNow`).
    static let keepaliveDeferral: Duration = .milliseconds(250)
    /// The longest the controlled side may defer its keepalive (PROTOCOL.md §9.5: MUST within 1 s).
    static let keepaliveDeferralCap: Duration = .seconds(1)

    /// The controlled side's keepalive deferral for the current path: `keepaliveDeferral`, or the path's slowness
    /// (one or two round trips to a server, about a one-way trip to the peer or more: the controlling side's initiation
    /// must arrive first) if that is longer, up to `keepaliveDeferralCap`. With 250 ms over a 1.2 s round trip, the two
    /// initiations crossed in about half the lab's connects, and the tunnel waited for WireGuard's 5-second retry (or
    /// was suspected dead and moved to the relay).
    var keepaliveDeferralNow: Duration {
        min(max(Self.keepaliveDeferral, .milliseconds(pathSlowness)), Self.keepaliveDeferralCap)
    }

    /// The actions that point WireGuard at the peer over `path`, carried by ICE session `instance`: first the
    /// forwarding socket bound (a forwarded path) or released (any other), then the WireGuard peer configured.
    ///
    /// Turning keepalive on makes WireGuard send at once, which starts a handshake. If both sides did that at the same
    /// moment, each would answer the other's initiation and reject the answer to its own (WireGuard's handshake
    /// collision), and nothing would work until its 5-second retry. So only the controlling side starts at once; the
    /// controlled side turns keepalive on 250 ms later (more over a slow path, `keepaliveDeferralNow`), by which time
    /// the controlling side's initiation has normally arrived (this side's WireGuard then sends no initiation of its
    /// own for 5 s) — or, if it was lost, this side's starts it.
    ///
    /// A handed-over path keeps the session's forwarding socket (the runtime gates it, see `HandoverBypassWatch`): closing
    /// it while WireGuard still sends to it, and binding another a moment later, would lose the datagrams in between.
    func configureWireGuard(path: DataPathMode, instance: UInt64) -> [MeshAction] {
        let configure = MeshAction.configureWireGuardPeer(info, path: path, instance: instance,
                                                          keepalive: controlling ? .now : .after(keepaliveDeferralNow))
        switch path {
        case .forwarded: return [.bindForwarding(peer: info.publicKey, instance: instance), configure]
        case .handedOver: return [configure]
        case .direct: return [.releaseForwarding(peer: info.publicKey, instance: instance), configure]
        }
    }
}
