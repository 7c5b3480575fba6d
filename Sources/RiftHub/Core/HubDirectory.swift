public import RiftProtocol
public import RiftCrypto

/// The hub's view of its persistent state: networks, tokens and peers.
///
/// The routing core reads and writes state only through this protocol, so it runs against SQLite in the
/// real hub (`HubDatabase`, on SQLite), an in-memory fake in tests, or another engine shared by several hubs.
/// Every method is called on the hub's service thread. Failures throw `DirectoryError`; the router then
/// answers `internal_error` and keeps serving other connections.
public protocol HubDirectory: AnyObject {
    /// The settings of the network called `name`, or nil when there is none.
    func network(named name: String) throws(DirectoryError) -> NetworkSettings?

    /// The live (not revoked, not expired) token whose hash is `hash`, with the network it belongs to;
    /// nil when no live token has that hash. Implementations compare the hash in constant time.
    func liveToken(hash: TokenHash, now: Int64) throws(DirectoryError) -> TokenGrant?

    /// Admits `publicKey` to `network` under `name`: allocates its stable addresses the first time the key
    /// is seen, updates its name (unless the administrator set it, which then sticks) and last-seen time and the
    /// token's last-used time. Refuses a revoked key,
    /// and a new key when the network already has `maximumPeers` peers that are not revoked.
    func admitPeer(publicKey: PublicKey, name: String, network: NetworkSettings, tokenID: String, now: Int64)
        throws(DirectoryError) -> PeerAdmission

    /// Records that `peers` were connected at `now`.
    func recordLastSeen(_ peers: [PeerAddress], now: Int64) throws(DirectoryError)

    /// A value that changes whenever the stored data changed (for example through the admin CLI in another
    /// process). The router polls it once per tick and rechecks live sessions when it changes.
    func changeMarker() throws(DirectoryError) -> Int64

    /// The peers whose name the administrator set (`riftgate-hub peer rename`) after `revision`, oldest first; revoked
    /// peers are left out. Revisions grow with every admin rename across the hub, so a caller passes the highest it
    /// has seen (0 at first) and reads only what is new. The router asks when `changeMarker` changed.
    func adminRenames(after revision: Int64) throws(DirectoryError) -> [PeerRename]

    /// For each of `grants`, whether it has been withdrawn: its token revoked or expired, its peer revoked,
    /// or its network deleted. Grants still valid are absent from the result; a grant that names no token
    /// (`SessionGrant.unknownToken`) is withdrawn only with its peer or its network.
    func withdrawnGrants(_ grants: Set<SessionGrant>, now: Int64) throws(DirectoryError) -> [SessionGrant: GrantWithdrawal]

    /// How many networks exist, for the metrics page.
    func networkCount() throws(DirectoryError) -> Int

    /// The peers last seen within `window` seconds of the latest last-seen time stored, revoked ones included: those
    /// connected when the hub (in a cluster, any hub) last recorded its sessions, each with the token it was last
    /// admitted with. At start the hub counts them as departed (`HubRouter.rememberLastConnectedPeers`).
    func peersLastConnected(window: Int64) throws(DirectoryError) -> [LastConnectedPeer]

    /// Removes the ephemeral peers (admitted by an ephemeral token) last seen before `cutoff` that are not connected
    /// now, and returns them: their addresses and slots become free.
    func removeStaleEphemeralPeers(lastSeenBefore cutoff: Int64,
                                   unlessConnected isConnected: (PeerAddress) -> Bool) throws(DirectoryError) -> [PeerAddress]

    /// Whether writes were made that are not committed yet: a directory that batches writes (the hub's database
    /// commits once per service-loop pass) keeps them in an open transaction until `commitPendingWrites`. Whoever
    /// tells clients about what was written (a welcome with its addresses) waits for that commit. The router itself
    /// never calls these two; the transport around it does.
    var hasUncommittedWrites: Bool { get }

    /// Commits the writes batched so far; on failure none of them is kept.
    func commitPendingWrites() throws(DirectoryError)
}

extension HubDirectory {
    /// A directory that commits every write at once has nothing pending.
    public var hasUncommittedWrites: Bool { false }

    /// Nothing to commit.
    public func commitPendingWrites() throws(DirectoryError) {}
}

/// A network's addressing and limits.
public struct NetworkSettings: Sendable, Hashable {
    /// The network's name, as in the WebSocket path.
    public var name: String
    /// The IPv4 overlay prefix addresses are allocated from.
    public var ipv4Prefix: IPv4Prefix
    /// The IPv6 ULA prefix; a peer's address is this prefix plus the same host offset as its IPv4 address.
    public var ipv6Prefix: IPv6Prefix
    /// How many peers that are not revoked the network may hold.
    public var maximumPeers: Int
    /// The DNS suffix after the network's name: its peers are `<dns name>.<name>.<dnsSuffix>`.
    public var dnsSuffix: String

    /// Creates network settings.
    public init(name: String, ipv4Prefix: IPv4Prefix, ipv6Prefix: IPv6Prefix, maximumPeers: Int,
                dnsSuffix: String = DNSNames.defaultSuffix) {
        self.name = name
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self.maximumPeers = maximumPeers
        self.dnsSuffix = dnsSuffix
    }

    /// The network's DNS domain, `<name>.<dnsSuffix>` (PROTOCOL.md §6.13).
    public var dnsDomain: String { "\(name).\(dnsSuffix)" }
}

/// A live token: its public id and the network it admits to.
public struct TokenGrant: Sendable, Hashable {
    /// The token's public id (never the secret).
    public var id: String
    /// The network the token belongs to.
    public var network: String

    /// Creates a token grant.
    public init(id: String, network: String) {
        self.id = id
        self.network = network
    }
}

/// The outcome of `HubDirectory.admitPeer`.
public enum PeerAdmission: Sendable, Hashable {
    /// The peer may join, with these addresses.
    case admitted(PeerInfo)
    /// The key was revoked in this network.
    case revoked
    /// The key is new and the network already holds its maximum number of peers.
    case networkFull
    /// The token is limited to `maximumKeys` keys (single-use or per-device) and has admitted that many others.
    case tokenExhausted(maximumKeys: Int)
}

/// A peer identified within its network.
public struct PeerAddress: Sendable, Hashable {
    /// The network.
    public var network: String
    /// The peer's public key.
    public var publicKey: PublicKey

    /// Creates a peer address.
    public init(network: String, publicKey: PublicKey) {
        self.network = network
        self.publicKey = publicKey
    }
}

/// A peer connected when the hub last ran (`HubDirectory.peersLastConnected`).
public struct LastConnectedPeer: Sendable, Hashable {
    /// The peer.
    public var address: PeerAddress
    /// The id of the token it was last admitted with; nil for a peer last admitted by a hub that did not record it.
    public var tokenID: String?

    /// Creates an entry.
    public init(address: PeerAddress, tokenID: String?) {
        self.address = address
        self.tokenID = tokenID
    }
}

/// A peer's name and DNS name as the administrator set them (`HubDirectory.adminRenames`).
public struct PeerRename: Sendable, Hashable {
    /// The peer.
    public var peer: PeerAddress
    /// Its display name.
    public var name: String
    /// Its DNS label.
    public var dnsName: String?
    /// The rename's place in the hub-wide sequence of admin renames.
    public var revision: Int64

    /// Creates a rename.
    public init(peer: PeerAddress, name: String, dnsName: String?, revision: Int64) {
        self.peer = peer
        self.name = name
        self.dnsName = dnsName
        self.revision = revision
    }
}

/// What a live session was admitted with; rechecked when the stored data changes.
public struct SessionGrant: Sendable, Hashable {
    /// The network.
    public var network: String
    /// The id of the token the connection presented; `unknownToken` for a peer gone from another hub of a cluster
    /// whose claim named no token (a hub older than `ClusterSession.tokenID`).
    public var tokenID: String
    /// The peer's key once it said hello; nil while the connection awaits its hello.
    public var publicKey: PublicKey?

    /// Creates a session grant.
    public init(network: String, tokenID: String, publicKey: PublicKey?) {
        self.network = network
        self.tokenID = tokenID
        self.publicKey = publicKey
    }

    /// The token id of a grant whose token this hub does not know (no token has an empty id).
    public static let unknownToken = ""
}

/// Why a session's grant was withdrawn, in order of precedence.
public enum GrantWithdrawal: Sendable, Hashable {
    /// The network was deleted.
    case networkDeleted
    /// The peer's key was revoked.
    case peerRevoked
    /// The token was revoked or expired.
    case tokenRevoked
}

/// A failure of the hub's storage.
public struct DirectoryError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public var reason: String
    /// The storage engine's own code, when it has one (SQLite's extended result code).
    public var code: Int32?

    /// Creates a directory error.
    public init(reason: String, code: Int32? = nil) {
        self.reason = reason
        self.code = code
    }

    public var description: String { code.map { "\(reason) (code \($0))" } ?? reason }
}
