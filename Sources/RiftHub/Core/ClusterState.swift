public import RiftCluster
public import RiftProtocol

/// One hub's view of the cluster (docs/architecture.md, "Hub cluster"): the session table built from `session_claimed`,
/// `session_ended` and snapshots, the other hubs' liveness, the duplicate filter and this hub's sequences.
///
/// A plain value without I/O or clocks of its own: `HubRouter` owns it on the service thread, passes the time in, and
/// turns its decisions into `HubAction`s. Sessions of this hub are in the table too (recorded when claimed), so a
/// claim from another hub is compared with them by the same rule as with anyone else's.
public struct ClusterState: Sendable {
    /// This hub's id for this start (`<name>-<random>`).
    public let hubID: String
    /// Seconds without any message from a hub after which its sessions are declared left (`timeout`).
    public var deadAfterSeconds: Double = 5
    /// Seconds between this hub's heartbeats.
    public var heartbeatSeconds: Double = 1
    /// Whether the bus is connected now; while it is not, nobody is declared dead (this hub cannot tell a dead hub
    /// from its own cut).
    public internal(set) var isConnected = false
    /// Every known session, by network and key.
    private(set) var sessions: [String: [PublicKey: ClusterSession]] = [:]
    /// The other hubs heard from, with the monotonic time of their last message.
    private(set) var lastHeard: [String: Double] = [:]
    /// Seconds a missing broadcast may still arrive out of order before it counts as lost (ClusterState+Repair.swift).
    public var lossGraceSeconds: Double = 0.5
    /// Seconds before a snapshot asked for and not (completely) received is asked for again.
    public var snapshotRetrySeconds: Double = 3
    var windows: [String: SequenceWindow] = [:]
    /// Per other hub, the broadcasts missing since a later one arrived (ClusterState+Repair.swift).
    var gaps: [String: BroadcastGap] = [:]
    /// Per other hub, when this hub last asked for its snapshot and has not had a complete one since.
    var snapshotRequested: [String: Double] = [:]
    /// Per other hub, the snapshot being received part by part.
    var assemblies: [String: SnapshotAssembly] = [:]
    /// Per remote session id, the origin's broadcast sequence of the message that set the entry (a claim, an update,
    /// or a snapshot's `broadcastSequence`): a snapshot taken before it neither removes nor reverts it.
    var entrySequences: [String: Int64] = [:]
    private(set) var broadcastSequence: Int64 = 0
    private var signalSequence: Int64 = 0
    private var sessionCounter: Int64 = 0
    private var snapshotCounter: Int64 = 0
    /// When the next heartbeat is due (monotonic seconds).
    var nextHeartbeat: Double = 0

    /// A state with no sessions and no known hubs.
    public init(hubID: String) {
        self.hubID = hubID
    }

    /// The session owning `key` in `network` on another hub, if any.
    public func remoteSession(_ key: PublicKey, in network: String) -> ClusterSession? {
        guard let session = sessions[network]?[key], session.hubID != hubID else { return nil }
        return session
    }

    /// The peers of `network` whose sessions live on other hubs (with the peer description their claim carried).
    public func remotePeers(in network: String) -> [PeerInfo] {
        (sessions[network] ?? [:]).values.compactMap { $0.hubID == hubID ? nil : $0.peer }
    }

    /// How many sessions of other hubs the table holds.
    public var remoteSessionCount: Int {
        sessions.values.reduce(0) { $0 + $1.values.filter { $0.hubID != hubID }.count }
    }

    // MARK: Messages this hub publishes

    /// A new session of this hub for `peer`, admitted with token `tokenID`: records it (newer than anything known for
    /// that key, even if the other hub's clock is ahead) and returns the `session_claimed` to publish.
    public mutating func claim(_ peer: PeerInfo, in network: String, tokenID: String? = nil,
                               nowMilliseconds: Int64) -> ClusterMessage {
        sessionCounter += 1
        var claimedAt = nowMilliseconds
        if let known = sessions[network]?[peer.publicKey] { claimedAt = max(claimedAt, known.claimedAtMilliseconds + 1) }
        var described = peer
        described.allowIn = nil
        let session = ClusterSession(network: network, key: peer.publicKey, session: "\(hubID)/\(sessionCounter)",
                                     claimedAtMilliseconds: claimedAt, peer: described, tokenID: tokenID)
        sessions[network, default: [:]][peer.publicKey] = session
        return broadcast(.sessionClaimed(session))
    }

    /// This hub's session for `key` ended: forgets it and returns the `session_ended` to publish, or nil when the table
    /// no longer holds a session of this hub for that key (another hub's newer claim replaced it).
    public mutating func end(_ key: PublicKey, in network: String, reason: SessionEnd.Reason) -> ClusterMessage? {
        guard let session = sessions[network]?[key], session.hubID == hubID else { return nil }
        remove(key, in: network)
        return broadcast(.sessionEnded(SessionEnd(network: network, key: key, session: session.session, reason: reason)))
    }

    /// An administrator changed the peer of this hub's session for `peer.publicKey` (name, routes, exit node): records
    /// it and returns the `session_claimed` (same session id) that tells the other hubs; nil when this hub holds no
    /// session for that key or nothing the other hubs see changed.
    public mutating func update(_ peer: PeerInfo, in network: String) -> ClusterMessage? {
        guard var session = sessions[network]?[peer.publicKey], session.hubID == hubID else { return nil }
        var described = peer
        described.allowIn = nil
        guard session.peer != described else { return nil }
        session.peer = described
        sessions[network, default: [:]][peer.publicKey] = session
        return broadcast(.sessionClaimed(session))
    }

    /// A signal for `key`'s session on another hub, with the subject of the hub holding it (`rift.hub.<id>.signals`);
    /// nil when no other hub holds it. `forwarded` marks a signal this hub passes on because the key moved away.
    public mutating func signal(_ signal: RelayedSignal, to key: PublicKey, in network: String,
                                forwarded: Bool = false) -> (subject: String, message: ClusterMessage)? {
        guard let owner = remoteSession(key, in: network) else { return nil }
        signalSequence += 1
        let message = ClusterMessage(hub: hubID, sequence: signalSequence, body: .signal(
            ClusterSignal(network: network, to: key, signal: signal, forwarded: forwarded)))
        return (ClusterSubject.signals(hubID: owner.hubID), message)
    }

    /// A request for another hub's snapshot, to publish on that hub's `rift.hub.<id>.sessions`.
    public mutating func snapshotRequest() -> ClusterMessage {
        signalSequence += 1
        return ClusterMessage(hub: hubID, sequence: signalSequence, body: .sessionsRequest)
    }

    /// The heartbeat to publish when one is due at `now` (monotonic seconds), else nil.
    public mutating func heartbeatIfDue(now: Double, sessionCount: Int) -> ClusterMessage? {
        guard isConnected, now >= nextHeartbeat else { return nil }
        nextHeartbeat = now + heartbeatSeconds
        let reached = broadcastSequence
        return ClusterMessage(hub: hubID, sequence: nextBroadcast(),
                              body: .hubAlive(HubAlive(broadcastSequence: reached, sessionCount: Int64(sessionCount))))
    }

    /// This hub's sessions as the parts of one numbered snapshot, for a hub that has just been heard of or asked.
    public mutating func snapshot() -> [ClusterMessage] {
        let own = sessions.values.flatMap { $0.values.filter { $0.hubID == hubID } }.sorted { $0.session < $1.session }
        snapshotCounter += 1
        var parts: [ClusterMessage] = []
        var start = 0
        repeat {
            let end = min(own.count, start + SessionsSnapshot.maximumSessionsPerPart)
            signalSequence += 1
            parts.append(ClusterMessage(hub: hubID, sequence: signalSequence, body: .sessionsSnapshot(SessionsSnapshot(
                id: snapshotCounter, part: Int64(parts.count), broadcastSequence: broadcastSequence,
                sessions: Array(own[start..<end]), more: end < own.count))))
            start = end
        } while start < own.count
        return parts
    }

    // MARK: Messages from other hubs

    /// Whether `message` is new: from another hub and not seen before in its stream. Records the origin as alive at
    /// `now`; `newHub` tells whether the origin was unknown until now (it needs this hub's snapshot). A broadcast that
    /// skips sequences records them as possibly lost (`snapshotRequestsDue`).
    public mutating func accept(_ message: ClusterMessage, now: Double) -> (isNew: Bool, newHub: Bool) {
        guard message.hub != hubID else { return (false, false) }
        let newHub = lastHeard[message.hub] == nil
        lastHeard[message.hub] = now
        let stream = message.hub + (message.isBroadcast ? "|b" : "|s")
        let highest = windows[stream]?.highest ?? 0
        let isNew = windows[stream, default: SequenceWindow()].accept(message.sequence)
        if isNew, message.isBroadcast, highest > 0, message.sequence > highest + 1 {
            noteGap(from: message.hub, missing: (highest + 1)...(message.sequence - 1), now: now)
        }
        return (isNew, newHub)
    }

    /// What a claim from another hub changes.
    public enum ClaimOutcome: Sendable, Equatable {
        /// Older than the session the table holds for that key (claims crossed, or a replay): nothing changes.
        case stale
        /// The key had no session: a peer joined.
        case joined
        /// The key's session moved from `previous` (on this hub when `previous.hubID` is this hub's id: close it as
        /// replaced, without any `peer_left`).
        case moved(previous: ClusterSession)
        /// The same session, with the peer changed by an administrator (`previous` holds the peer as it was).
        case updated(previous: ClusterSession)
    }

    /// Applies a claim (or a snapshot's session) made by hub `origin`, carried by the origin's broadcast `sequence`
    /// (a snapshot's `broadcastSequence`). A session not named after its origin is stale; so is a repeat of the
    /// session the table holds that changes nothing, or that is older than what set the entry (a snapshot taken before
    /// an update never reverts it).
    public mutating func applyClaim(_ session: ClusterSession, from origin: String, sequence: Int64 = 0) -> ClaimOutcome {
        guard session.hubID == origin, origin != hubID else { return .stale }
        let previous = sessions[session.network]?[session.key]
        if let previous, previous.session == session.session {
            guard previous.peer != session.peer, sequence >= entrySequences[session.session, default: 0] else { return .stale }
            sessions[session.network, default: [:]][session.key] = session
            entrySequences[session.session] = sequence
            return .updated(previous: previous)
        }
        if let previous, !session.supersedes(previous) { return .stale }
        if let previous { entrySequences[previous.session] = nil }
        sessions[session.network, default: [:]][session.key] = session
        entrySequences[session.session] = sequence
        return previous.map { .moved(previous: $0) } ?? .joined
    }

    /// Applies a `session_ended`: removes the session only if the table holds that very session (a late end must never
    /// remove a newer session of the key). Returns the session removed, nil when none was.
    public mutating func applyEnd(_ end: SessionEnd, from origin: String) -> ClusterSession? {
        guard let session = sessions[end.network]?[end.key], session.session == end.session, session.hubID == origin,
              origin != hubID else { return nil }
        remove(end.key, in: end.network)
        return session
    }

    /// The bus connection went up or down. Coming back, every known hub counts as heard now, so that nobody is declared
    /// dead for the outage of this hub's own link.
    public mutating func setConnected(_ connected: Bool, now: Double) {
        isConnected = connected
        if connected { for hub in lastHeard.keys { lastHeard[hub] = now } }
    }

    /// The other hubs heard from, sorted.
    public var knownHubs: [String] { lastHeard.keys.sorted() }

    /// The sessions of hubs silent for `deadAfterSeconds` at `now`, removed from the table (sorted, for stable output);
    /// those hubs are forgotten. Nothing while the bus is disconnected.
    public mutating func removeDeadHubs(now: Double) -> [ClusterSession] {
        guard isConnected else { return [] }
        let dead = Set(lastHeard.filter { now - $0.value >= deadAfterSeconds }.keys)
        guard !dead.isEmpty else { return [] }
        var removed: [ClusterSession] = []
        for hub in dead {
            lastHeard[hub] = nil
            windows[hub + "|b"] = nil
            windows[hub + "|s"] = nil
            gaps[hub] = nil
            snapshotRequested[hub] = nil
            assemblies[hub] = nil
        }
        for (network, table) in sessions {
            for (key, session) in table where dead.contains(session.hubID) {
                removed.append(session)
                remove(key, in: network)
            }
        }
        return removed.sorted { ($0.network, $0.key) < ($1.network, $1.key) }
    }

    // MARK: Private

    private mutating func nextBroadcast() -> Int64 {
        broadcastSequence += 1
        return broadcastSequence
    }

    private mutating func broadcast(_ body: ClusterMessage.Body) -> ClusterMessage {
        ClusterMessage(hub: hubID, sequence: nextBroadcast(), body: body)
    }

    mutating func remove(_ key: PublicKey, in network: String) {
        if let session = sessions[network]?[key] { entrySequences[session.session] = nil }
        sessions[network]?[key] = nil
        if sessions[network]?.isEmpty == true { sessions[network] = nil }
    }
}
