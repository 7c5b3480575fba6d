import RiftProtocol

/// The NATS subjects of the hub cluster (docs/architecture.md, "Hub cluster"), built in one place.
///
/// Keys appear as 64 lowercase hex digits (base64's `+`, `/` and `=` are poor subject characters); network names and
/// hub ids are subject-safe by construction (`Names.checkNetworkName`, `ClusterMessage.checkHubID`).
public enum ClusterSubject {
    /// Signals for the session of `key` in `network`, subscribed by the hub that holds it.
    public static func signal(network: String, key: PublicKey) -> String { "rift.\(network).signal.\(key.hex)" }
    /// Sessions claimed and ended in `network`.
    public static func presence(network: String) -> String { "rift.\(network).presence" }
    /// Every network's presence, as each hub subscribes to it.
    public static let allPresence = "rift.*.presence"
    /// Administrative changes committed in the database, for every hub to act on at once.
    public static let adminChanges = "rift.admin.changes"
    /// Hub `hubID`'s heartbeats.
    public static func alive(hubID: String) -> String { "rift.hub.\(hubID).alive" }
    /// Every hub's heartbeats.
    public static let allAlive = "rift.hub.*.alive"
    /// Requests for hub `hubID`'s sessions (answered with a `sessions_snapshot` on the reply subject).
    public static func sessions(hubID: String) -> String { "rift.hub.\(hubID).sessions" }
}
