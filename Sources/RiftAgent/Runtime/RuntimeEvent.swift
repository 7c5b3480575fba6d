import RiftProtocol

/// Everything the agent's runtime reacts to, merged into one ordered inbox.
enum RuntimeEvent: Sendable {
    case hub(SignalingEvent)
    case mesh(MeshEvent)
    /// The liveness check, every `AgentCore.tickMilliseconds` (it schedules the next one).
    case tick
    /// A controlled-side peer's deferred keepalive is due (see `KeepaliveStart`).
    case enableKeepalive(PublicKey)
    /// A released forwarding socket's linger is over (see `AgentCore.linger`).
    case lingerOver(instance: UInt64, token: UInt64)
    /// A debounced batch of changes to the host's network (see `UnderlayMonitor`).
    case underlay([UnderlayChange])
    case stop(reason: String)
}
