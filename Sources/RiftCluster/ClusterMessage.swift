import RiftProtocol

/// One message between the hubs of a cluster: who sent it, its sequence, and what it says.
///
/// Encoded as one JSON object per NATS message (`ClusterMessage+Codec.swift`) with RiftProtocol's strict JSON: `type`,
/// `hub` (the originating hub id), `seq` and the body's fields. Receivers drop duplicates by (`hub`, `seq`) and detect
/// lost broadcasts by gaps (docs/architecture.md, "Encoding").
public struct ClusterMessage: Sendable, Hashable {
    /// The originating hub's id: its name and a per-start suffix (`hub-2-5f3a9c1e`).
    public var hub: String
    /// The origin's sequence in this message's stream (broadcast or signal), from 1.
    public var sequence: Int64
    /// What the message says.
    public var body: Body

    /// The bodies a cluster message may carry.
    public enum Body: Sendable, Hashable {
        /// A sealed signal for a peer whose session is on the receiving hub.
        case signal(ClusterSignal)
        /// A session started (or moved) on the origin hub: it owns the key from now on, unless a newer claim exists.
        /// Published again with the same session id when an administrator changed the peer (name, routes, exit node).
        case sessionClaimed(ClusterSession)
        /// A session on the origin hub ended; applied only if the receiver's table still holds that very session.
        case sessionEnded(SessionEnd)
        /// The origin's heartbeat.
        case hubAlive(HubAlive)
        /// Part of the origin's sessions, pushed on `rift.hub.<id>.sessions` to a hub just heard of or on request.
        case sessionsSnapshot(SessionsSnapshot)
        /// The origin asks the receiving hub for its sessions (it lost part of the receiver's broadcasts, or its own
        /// bus reconnected); answered with a `sessions_snapshot` on the origin's `rift.hub.<id>.sessions`.
        case sessionsRequest
    }

    /// Creates a message.
    public init(hub: String, sequence: Int64, body: Body) {
        self.hub = hub
        self.sequence = sequence
        self.body = body
    }

    /// Whether the message belongs to the origin's broadcast stream (seen by every hub, so a gap means a loss) rather
    /// than its direct stream (signals, snapshots and requests sent to one hub).
    public var isBroadcast: Bool {
        if case .signal = body { return false }
        if case .sessionsSnapshot = body { return false }
        if case .sessionsRequest = body { return false }
        return true
    }
}

/// A signal relayed from a peer on the origin hub to a peer on the receiving hub.
public struct ClusterSignal: Sendable, Hashable {
    /// The network both peers are in.
    public var network: String
    /// The recipient.
    public var to: PublicKey
    /// The signal as the recipient will get it, `from` authenticated by the origin hub.
    public var signal: RelayedSignal
    /// Whether a hub that no longer held `to` passed it on to the hub that does (it is never passed on twice).
    public var forwarded: Bool

    /// Creates a relayed signal for `to`.
    public init(network: String, to: PublicKey, signal: RelayedSignal, forwarded: Bool = false) {
        self.network = network
        self.to = to
        self.signal = signal
        self.forwarded = forwarded
    }
}

/// One session in the cluster: a key connected to a hub.
public struct ClusterSession: Sendable, Hashable {
    /// Its network.
    public var network: String
    /// The peer's key.
    public var key: PublicKey
    /// `<hub id>/<counter>`: unique in the cluster.
    public var session: String
    /// When the owning hub authenticated it, in milliseconds since 1970; claims are ordered by (this, hub id).
    public var claimedAtMilliseconds: Int64
    /// The peer as its hub admitted it (name, addresses, DNS name, approved routes and exit node; never `allow_in`,
    /// which each receiving hub computes per recipient). The other hubs introduce it to their sessions with this, so
    /// that a join costs them no database read; nil in older messages.
    public var peer: PeerInfo?
    /// The id of the token the session presented (the id `riftgate-hub token list` shows, not the token), so that
    /// every hub can tell when a departed peer's token is revoked; nil in older messages.
    public var tokenID: String?

    /// The longest token id a message may carry.
    public static let maximumTokenIDLength = 64

    /// Creates a session description.
    public init(network: String, key: PublicKey, session: String, claimedAtMilliseconds: Int64, peer: PeerInfo? = nil,
                tokenID: String? = nil) {
        self.network = network
        self.key = key
        self.session = session
        self.claimedAtMilliseconds = claimedAtMilliseconds
        self.peer = peer
        self.tokenID = tokenID
    }

    /// The hub id in `session` (`<hub id>/<counter>`).
    public var hubID: String { String(session[..<(session.lastIndex(of: "/") ?? session.endIndex)]) }

    /// Whether this claim wins over `other` for the same key: the later `claimedAtMilliseconds`, then the greater
    /// session id, so that every hub picks the same winner when two claims cross.
    public func supersedes(_ other: ClusterSession) -> Bool {
        (claimedAtMilliseconds, session) > (other.claimedAtMilliseconds, other.session)
    }
}

/// The end of a session on its hub.
public struct SessionEnd: Sendable, Hashable {
    /// Why a session ended, as peers are told in `peer_left`.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case disconnected, timeout, revoked
    }

    /// Its network.
    public var network: String
    /// The peer's key.
    public var key: PublicKey
    /// The session that ended (never another session of the same key).
    public var session: String
    /// Why.
    public var reason: Reason

    /// Creates a session end.
    public init(network: String, key: PublicKey, session: String, reason: Reason) {
        self.network = network
        self.key = key
        self.session = session
        self.reason = reason
    }
}

/// A hub's heartbeat.
public struct HubAlive: Sendable, Hashable {
    /// The last broadcast sequence the hub published before this heartbeat (lets receivers see a lost last message).
    public var broadcastSequence: Int64
    /// How many sessions the hub holds.
    public var sessionCount: Int64

    /// Creates a heartbeat.
    public init(broadcastSequence: Int64, sessionCount: Int64) {
        self.broadcastSequence = broadcastSequence
        self.sessionCount = sessionCount
    }
}

/// Part of a hub's sessions (a NATS message is at most 1 MiB by default, so a large hub answers in several parts).
///
/// A snapshot whose parts all arrived is authoritative for its hub: the receiver drops that hub's sessions it does not
/// list (unless claimed after `broadcastSequence`). `id` and `part` let the receiver tell a complete snapshot from one
/// with a lost part (then it only adds and updates).
public struct SessionsSnapshot: Sendable, Hashable {
    /// The snapshot's number, from 1 per origin incarnation: every part of one snapshot carries it.
    public var id: Int64
    /// This part's index in the snapshot, from 0.
    public var part: Int64
    /// The origin's broadcast sequence when the snapshot was taken: claims published later are not in it.
    public var broadcastSequence: Int64
    /// Sessions in this part.
    public var sessions: [ClusterSession]
    /// Whether more parts follow.
    public var more: Bool

    /// The most sessions one part carries (about 200 bytes each in JSON).
    public static let maximumSessionsPerPart = 2000

    /// Creates a part.
    public init(id: Int64, part: Int64, broadcastSequence: Int64, sessions: [ClusterSession], more: Bool) {
        self.id = id
        self.part = part
        self.broadcastSequence = broadcastSequence
        self.sessions = sessions
        self.more = more
    }
}
