/// A message the hub sends to an agent.
public enum HubMessage: Sendable, Hashable {
    /// Sent first on every connection: versions, the hub's key and a fresh nonce to prove possession against.
    case challenge(Challenge)
    /// The session is open: the agent's addresses, the other peers and the ICE servers.
    case welcome(Welcome)
    /// Another peer joined the network.
    case peerJoined(PeerInfo)
    /// A peer left the network.
    case peerLeft(PeerLeft)
    /// A signaling message from another peer, with `from` stamped by the hub.
    case signal(RelayedSignal)
    /// Fresh ICE servers and TURN credentials, sent before the previous credentials expire.
    case iceServers(ICEServers)
    /// Something the agent sent was refused, or the session is ending.
    case error(ErrorFrame)

    /// The `type` field of every message the hub may send.
    public static let types: Set<String> = Set(
        ["challenge", "welcome", "peer_joined", "peer_left", "ice_servers", "error"] + SignalKind.allCases.map(\.rawValue))
}

/// The hub's first message on a connection.
public struct Challenge: Sendable, Hashable {
    /// Versions the hub speaks.
    public var versions: [Int64]
    /// The hub's long-term X25519 public key.
    public var hubKey: PublicKey
    /// 32 random bytes, fresh for this connection.
    public var nonce: [UInt8]

    /// The challenge nonce length in bytes.
    public static let nonceBytes = 32

    /// Creates a challenge.
    public init(versions: [Int64], hubKey: PublicKey, nonce: [UInt8]) {
        self.versions = versions
        self.hubKey = hubKey
        self.nonce = nonce
    }
}

/// The hub's reply to a valid `hello`.
public struct Welcome: Sendable, Hashable {
    /// The version in use for this session.
    public var version: Int64
    /// The network joined.
    public var network: String
    /// The agent itself as the network sees it, with its assigned overlay addresses.
    public var me: PeerInfo
    /// The network's IPv4 overlay prefix.
    public var ipv4Prefix: IPv4Prefix
    /// The network's IPv6 overlay prefix.
    public var ipv6Prefix: IPv6Prefix
    /// The other peers connected now.
    public var peers: [PeerInfo]
    /// STUN and TURN servers.
    public var ice: ICEServers
    /// How often the hub pings; a connection silent for three intervals is closed.
    public var heartbeatSeconds: Int64
    /// Protocol version 3: the network's DNS domain, `<network>.<suffix>`; peers are `<dns_name>.<dnsDomain>`
    /// (PROTOCOL.md §6.13). nil for sessions speaking an older version.
    public var dnsDomain: String?

    /// Creates a welcome.
    public init(version: Int64, network: String, me: PeerInfo, ipv4Prefix: IPv4Prefix, ipv6Prefix: IPv6Prefix,
                peers: [PeerInfo], ice: ICEServers, heartbeatSeconds: Int64, dnsDomain: String? = nil) {
        self.version = version
        self.network = network
        self.me = me
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self.peers = peers
        self.ice = ice
        self.heartbeatSeconds = heartbeatSeconds
        self.dnsDomain = dnsDomain
    }
}

/// A peer left the network.
public struct PeerLeft: Sendable, Hashable {
    /// The peer that left.
    public var publicKey: PublicKey
    /// Why: `disconnected`, `timeout` or `revoked`.
    public var reason: String

    /// Creates a peer-left notice.
    public init(publicKey: PublicKey, reason: String) {
        self.publicKey = publicKey
        self.reason = reason
    }
}

/// A signaling message as the recipient gets it.
public struct RelayedSignal: Sendable, Hashable {
    /// What the sealed payload holds.
    public var kind: SignalKind
    /// The sender, as authenticated by the hub.
    public var from: PublicKey
    /// The payload sealed by the sender for this recipient.
    public var sealed: SealedBox

    /// Creates a relayed signal.
    public init(kind: SignalKind, from: PublicKey, sealed: SealedBox) {
        self.kind = kind
        self.from = from
        self.sealed = sealed
    }
}

/// An `error` frame.
public struct ErrorFrame: Sendable, Hashable {
    /// The machine-readable code. Kept as text so that codes added by newer hubs still decode.
    public var code: String
    /// Human-readable explanation.
    public var message: String
    /// The `id` of the message this error is about, when it had one.
    public var ref: String?

    /// Creates an error frame.
    public init(code: String, message: String, ref: String? = nil) {
        self.code = code
        self.message = message
        self.ref = ref
    }

    /// Creates the frame for a `ProtocolError`.
    public init(_ error: ProtocolError, ref: String? = nil) {
        self.init(code: error.code.rawValue, message: error.message, ref: ref)
    }

    /// The known code, or nil for a code this build does not know.
    public var knownCode: ErrorCode? { ErrorCode(rawValue: code) }
}
