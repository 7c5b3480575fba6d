/// The NATS subjects of the hub cluster (docs/architecture.md, "Hub cluster"), built in one place.
///
/// No key appears in a subject (signals go to the holding hub's subject); network names and hub ids are subject-safe
/// by construction (`Names.checkNetworkName`, `ClusterMessage.checkHubID`).
public enum ClusterSubject {
    /// Signals for the sessions held by hub `hubID`, subscribed once by that hub (the sender's hub picks the subject
    /// from its session table).
    public static func signals(hubID: String) -> String { "rift.hub.\(hubID).signals" }
    /// Sessions claimed and ended in `network`.
    public static func presence(network: String) -> String { "rift.\(network).presence" }
    /// Every network's presence, as each hub subscribes to it.
    public static let allPresence = "rift.*.presence"
    /// Hub `hubID`'s heartbeats.
    public static func alive(hubID: String) -> String { "rift.hub.\(hubID).alive" }
    /// Every hub's heartbeats.
    public static let allAlive = "rift.hub.*.alive"
    /// Hub `hubID`'s snapshot subject: snapshots pushed to it, and requests for its own snapshot (answered on the
    /// requester's subject).
    public static func sessions(hubID: String) -> String { "rift.hub.\(hubID).sessions" }
}
