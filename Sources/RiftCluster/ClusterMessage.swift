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
        case sessionClaimed(ClusterSession)
        /// A session on the origin hub ended; applied only if the receiver's table still holds that very session.
        case sessionEnded(SessionEnd)
        /// The origin's heartbeat.
        case hubAlive(HubAlive)
        /// A change committed in the database that hubs must act on at once.
        case adminChange(AdminChange)
        /// Part of the origin's sessions, in reply to a request on `rift.hub.<id>.sessions`.
        case sessionsSnapshot(SessionsSnapshot)
    }

    /// Creates a message.
    public init(hub: String, sequence: Int64, body: Body) {
        self.hub = hub
        self.sequence = sequence
        self.body = body
    }

    /// Whether the message belongs to the origin's broadcast stream (seen by every hub, so a gap means a loss) rather
    /// than its signal stream.
    public var isBroadcast: Bool {
        if case .signal = body { return false }
        if case .sessionsSnapshot = body { return false }
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

    /// Creates a relayed signal for `to`.
    public init(network: String, to: PublicKey, signal: RelayedSignal) {
        self.network = network
        self.to = to
        self.signal = signal
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

    /// Creates a session description.
    public init(network: String, key: PublicKey, session: String, claimedAtMilliseconds: Int64) {
        self.network = network
        self.key = key
        self.session = session
        self.claimedAtMilliseconds = claimedAtMilliseconds
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

/// A change committed in the database; hubs reread the named object rather than trust a copy.
public struct AdminChange: Sendable, Hashable {
    /// What changed.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case peerRevoked = "peer_revoked"
        case tokenRevoked = "token_revoked"
        case peerRenamed = "peer_renamed"
        case routesChanged = "routes_changed"
        case policyChanged = "policy_changed"
        case networkChanged = "network_changed"
    }

    /// What changed.
    public var kind: Kind
    /// In which network.
    public var network: String
    /// The peer concerned, for changes about one peer.
    public var key: PublicKey?

    /// Creates a change notice.
    public init(kind: Kind, network: String, key: PublicKey? = nil) {
        self.kind = kind
        self.network = network
        self.key = key
    }
}

/// Part of a hub's sessions (a NATS message is at most 1 MiB by default, so a large hub answers in several parts).
public struct SessionsSnapshot: Sendable, Hashable {
    /// Sessions in this part.
    public var sessions: [ClusterSession]
    /// Whether more parts follow.
    public var more: Bool

    /// The most sessions one part carries (about 200 bytes each in JSON).
    public static let maximumSessionsPerPart = 2000

    /// Creates a part.
    public init(sessions: [ClusterSession], more: Bool) {
        self.sessions = sessions
        self.more = more
    }
}
