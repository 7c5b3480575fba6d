import RiftProtocol

/// Everything the agent's runtime reacts to, merged into one ordered inbox.
enum RuntimeEvent: Sendable {
    case hub(SignalingEvent)
    case mesh(MeshEvent)
    /// The one-second liveness check (it schedules the next one).
    case tick
    /// A controlled-side peer's deferred keepalive is due (see `KeepaliveStart`).
    case enableKeepalive(PublicKey)
    case stop(reason: String)
}
