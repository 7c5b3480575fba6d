import RiftProtocol
import RiftSupport

/// What the transport tells the core about a WebSocket upgrade request. Holds the bearer token, so its
/// `description` redacts the `Authorization` header.
public struct ConnectionRequest: Sendable, CustomStringConvertible {
    /// The request path, `/v1/networks/<network>`.
    public var path: String
    /// The `Authorization` header, `Bearer <token>`.
    public var authorization: String?
    /// The `Host` header, used to name the hub's STUN server when no public host is configured.
    public var host: String?
    /// The client's IP address, for logs and the failure limiter.
    public var remoteAddress: String

    /// Creates a request description.
    public init(path: String, authorization: String?, host: String?, remoteAddress: String) {
        self.path = path
        self.authorization = authorization
        self.host = host
        self.remoteAddress = remoteAddress
    }

    public var description: String {
        "ConnectionRequest(path: \(path), authorization: \(authorization == nil ? "none" : "redacted"), host: \(host ?? "none"), from: \(remoteAddress))"
    }
}

/// The routing core's state for one connection.
struct ConnectionRecord {
    /// Where the connection is in its life.
    var phase: ConnectionPhase
    /// The network and token it was admitted with.
    var grant: SessionGrant
    /// The `Host` header of its upgrade request.
    var requestHost: String?
    /// The client's address.
    var remoteAddress: String
    /// Its message budget.
    var bucket: TokenBucket
    /// Messages dropped by the rate limit since it opened.
    var droppedMessages = 0

    /// What became of a received message at the rate limit.
    enum Admission {
        /// The connection is ending: the message is ignored.
        case ignored
        /// Within the budget.
        case admitted
        /// Over the budget: dropped and counted in `droppedMessages`.
        case dropped
    }

    /// Takes one message from the budget of a connection that is not ending.
    ///
    /// This and `relaySender()` are called on the record in its dictionary slot (`connections.values[slot].…`), whose
    /// in-place access lends the record without copying it; reading a field through a getter, or mutating through
    /// `connections[id]?.…`, copied the whole record (and retained everything in it) for every relayed message.
    /// `relaySender()` is `mutating` only for that.
    mutating func admitMessage(now: Double) -> Admission {
        if case .ending = phase { return .ignored }
        guard bucket.take(now: now) else {
            droppedMessages += 1
            return .dropped
        }
        return .admitted
    }

    /// The proven key and network of an authenticated connection; nil before `welcome` and once ending. Does not
    /// change the record (see `admitMessage`).
    mutating func relaySender() -> (key: PublicKey, network: String)? {
        guard case .authenticated(let session) = phase else { return nil }
        return (session.info.publicKey, grant.network)
    }
}

/// The phases of a connection. Only `authenticated` connections are in the network index.
enum ConnectionPhase {
    /// Challenge sent; waiting for `hello` until `deadline` (monotonic seconds).
    case awaitingHello(nonce: [UInt8], deadline: Double)
    /// `hello` received, its proof out for checking (`HubAction.checkProof`); frames that follow wait in the `ProofWait`.
    /// Boxed (`indirect`), so that the hello does not make every connection's record larger.
    indirect case checkingProof(ProofWait)
    /// Joined its network.
    case authenticated(PeerSession)
    /// The hub has closed it (or it was replaced) and waits for the transport to confirm; everything
    /// it sends is ignored and its end has already been announced if it needed to be.
    case ending
}

extension ConnectionPhase {
    /// When a connection that has not joined yet is closed for taking too long (the hello deadline); nil once joined.
    var helloDeadline: Double? {
        switch self {
        case .awaitingHello(_, let deadline): deadline
        case .checkingProof(let wait): wait.deadline
        case .authenticated, .ending: nil
        }
    }
}

/// A `hello` whose proof of possession is being checked, and the frames the connection sent after it.
struct ProofWait {
    /// The challenge nonce the proof answers; a verdict for another nonce is stale.
    var nonce: [UInt8]
    /// The hello deadline, still in force until the verdict.
    var deadline: Double
    /// The hello, admitted once its proof holds.
    var hello: Hello
    /// Frames received since, handled in order after the verdict (at most `HubRouter.framesHeldDuringProofCheck`).
    var heldFrames: [String] = []
}

/// An authenticated peer's session.
struct PeerSession {
    /// The peer as others see it.
    var info: PeerInfo
    /// When its TURN credentials expire (Unix seconds); nil without TURN.
    var turnExpiresAt: Int64?
    /// The protocol version it speaks; `allow_in` is sent from version 2 on.
    var version: Int64 = ProtocolVersion.v1
    /// Its tags in the network's access policy.
    var tags: Set<String> = []
    /// The peers it has been told about, with the `allow_in` it was told; nil while the network has no policy
    /// (it is told about every connected peer, unrestricted).
    var introduced: [PublicKey: Introduction]?
}

/// What a session was told about one peer.
struct Introduction: Hashable {
    /// The `allow_in` sent (nil: everything).
    var allowIn: [PortRule]?
}

/// A session's TURN credentials due for a refresh (`HubRouter.turnRefreshes`): which connection, and the expiry of
/// the credentials the entry was scheduled for, so that an entry outlived by newer credentials is recognised as stale.
struct TURNRefresh<Connection> {
    let connection: Connection
    let expiresAt: Int64
}
