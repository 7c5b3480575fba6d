public import RiftCluster
public import RiftProtocol

/// What the routing core asks its transport to do, in order.
public enum HubAction<Connection: Hashable & Sendable>: Sendable, Hashable {
    /// Send `message` on `connection`.
    case send(HubMessage, to: Connection)
    /// Close `connection` with a WebSocket close code, after flushing what was sent before.
    case close(Connection, code: UInt16, reason: String)
    /// Hub cluster only: publish `message` on the bus subject `subject`.
    case publish(ClusterMessage, subject: String)
    /// Check a hello's proof of possession (`ProofCheck.verify`, one X25519 operation) and hand the verdict to
    /// `HubRouter.proofChecked`, on any thread: the connection's later frames wait in the router until then.
    case checkProof(ProofCheck<Connection>)
}

/// WebSocket close codes the hub uses. 4000-4999 are private-use codes (RFC 6455 §7.4.2); the
/// error frame sent just before the close carries the protocol's stable error code.
public enum HubCloseCode {
    /// Going away: the hub is shutting down.
    public static let goingAway: UInt16 = 1001
    /// A normal close: the hub answered a client's `ice_servers` request (PROTOCOL.md §6.12).
    public static let normal: UInt16 = 1000
    /// Policy violation: sustained flooding.
    public static let policyViolation: UInt16 = 1008
    /// The hub failed internally.
    public static let internalError: UInt16 = 1011
    /// Malformed session: a message before hello, an unsupported version.
    public static let badSession: UInt16 = 4400
    /// Bad or missing token, unknown network.
    public static let unauthorized: UInt16 = 4401
    /// Failed proof of possession or revoked peer.
    public static let forbidden: UInt16 = 4403
    /// The network was deleted.
    public static let networkGone: UInt16 = 4404
    /// Replaced by a newer connection with the same key.
    public static let replaced: UInt16 = 4409
    /// Too many failed attempts from this address, or the network is full.
    public static let tooMany: UInt16 = 4429
}

/// Why a connection ended, as the transport saw it.
public enum DisconnectCause: Sendable, Hashable {
    /// Closed by either side or by a network error.
    case closed
    /// Dropped because it stopped answering heartbeats.
    case heartbeatTimeout
}
