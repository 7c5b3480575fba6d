import RiftProtocol

/// Everything the agent's main loop reacts to, merged into one ordered stream.
enum RuntimeEvent: Sendable {
    case hub(HubLink.Event)
    case mesh(MeshEvent)
    case tick
    case stop(reason: String)
}
