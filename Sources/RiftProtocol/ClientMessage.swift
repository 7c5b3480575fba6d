/// A message an agent sends to the hub.
public enum ClientMessage: Sendable, Hashable {
    /// Answers the hub's challenge: chooses a version, claims a public key and proves possession of it.
    case hello(Hello)
    /// A sealed signaling message for another peer of the same network.
    case signal(OutgoingSignal)
    /// Instead of `hello`: asks for the network's STUN and TURN servers with short-lived TURN credentials, without
    /// joining (PROTOCOL.md §6.12). The hub answers one `ice_servers` and closes the connection normally.
    case iceServers(ICEServersRequest)

    /// The `type` field of every message an agent may send.
    public static let types: Set<String> = Set(["hello", "ice_servers"] + SignalKind.allCases.map(\.rawValue))
}

/// A request for the network's ICE servers by a client that holds the network's token but does not join
/// (`riftgate netcheck --token-file`): no key, no proof, no session.
public struct ICEServersRequest: Sendable, Hashable {
    /// An optional client-chosen id echoed in an error about this message.
    public var id: String?

    /// Creates a request.
    public init(id: String? = nil) {
        self.id = id
    }
}

/// The agent's answer to `challenge`.
public struct Hello: Sendable, Hashable {
    /// The protocol version the agent chose from the challenge's list.
    public var version: Int64
    /// The agent's WireGuard public key, which becomes its identity in the network.
    public var publicKey: PublicKey
    /// The name the agent gives itself.
    public var name: String
    /// The proof of possession of the private key (see `PROTOCOL.md` § Proof of possession).
    public var proof: SealedBox
    /// An optional client-chosen id echoed in an error about this message.
    public var id: String?
    /// Protocol version 4: the subnet routes the agent offers to forward for the network (PROTOCOL.md §6.14); nil
    /// (absent) means none. The hub passes a route on only once an administrator approved it.
    public var advertiseRoutes: [SubnetRoute]?
    /// Protocol version 5: whether the agent offers to be an exit node for the network, forwarding all traffic of
    /// the peers that choose it (PROTOCOL.md §6.15). nil (absent) means no, like `false`; both are kept as decoded so
    /// that a frame re-encodes to the same value. The hub passes it on only once an administrator approved it.
    public var advertiseExitNode: Bool?

    /// Creates a hello.
    public init(version: Int64, publicKey: PublicKey, name: String, proof: SealedBox, id: String? = nil,
                advertiseRoutes: [SubnetRoute]? = nil, advertiseExitNode: Bool? = nil) {
        self.version = version
        self.publicKey = publicKey
        self.name = name
        self.proof = proof
        self.id = id
        self.advertiseRoutes = advertiseRoutes
        self.advertiseExitNode = advertiseExitNode
    }
}

/// A signaling message as the sender writes it: addressed by `to`; the hub adds `from`.
public struct OutgoingSignal: Sendable, Hashable {
    /// What the sealed payload holds.
    public var kind: SignalKind
    /// The recipient's public key.
    public var to: PublicKey
    /// The payload, sealed for the recipient.
    public var sealed: SealedBox
    /// An optional client-chosen id echoed in an error about this message.
    public var id: String?

    /// Creates an outgoing signal.
    public init(kind: SignalKind, to: PublicKey, sealed: SealedBox, id: String? = nil) {
        self.kind = kind
        self.to = to
        self.sealed = sealed
        self.id = id
    }
}
