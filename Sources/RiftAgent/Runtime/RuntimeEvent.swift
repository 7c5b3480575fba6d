import RiftProtocol

/// Everything the agent's main loop reacts to, merged into one ordered stream.
enum RuntimeEvent: Sendable {
    case hub(HubLink.Event)
    case mesh(MeshEvent)
    case tick
    /// Time to turn on the keepalives deferred on the controlled side (see `configurePeer`).
    case deferredKeepalives
    /// A debounced batch of changes to the host's network (see `UnderlayMonitor`).
    case underlay([UnderlayChange])
    case stop(reason: String)
}
