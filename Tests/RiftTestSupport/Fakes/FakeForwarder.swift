import RiftAgent
import RiftSupport

/// Records which ICE sessions are forwarded; each gets loopback port 30000 + its instance. No packet moves.
public final class FakeForwarder: PacketForwarder {
    private let forwarded = Locked<Set<UInt64>>([])

    /// No session forwarded.
    public init() {}

    /// The ICE sessions forwarded now.
    public var instances: Set<UInt64> { forwarded.withLock { $0 } }

    /// The ICE sessions bound with an `admit` gate (a handed-over pair's safety net), not yet forwarded outright.
    public var watchedInstances: Set<UInt64> { watched.withLock { $0 } }
    private let watched = Locked<Set<UInt64>>([])

    public func forward(instance: UInt64, link: any ICELink, wireGuardPort: UInt16,
                        admit: (@Sendable () -> Bool)?) throws(AgentError) -> UInt16 {
        if admit == nil {
            watched.withLock { _ = $0.remove(instance) }
            forwarded.withLock { _ = $0.insert(instance) }
        } else {
            forwarded.withLock { _ = $0.remove(instance) }
            watched.withLock { _ = $0.insert(instance) }
        }
        return UInt16(30_000 + instance % 30_000)
    }

    public func stopForwarding(instance: UInt64) {
        forwarded.withLock { _ = $0.remove(instance) }
        watched.withLock { _ = $0.remove(instance) }
    }
    public func shutdown() {
        forwarded.withLock { $0.removeAll() }
        watched.withLock { $0.removeAll() }
    }
}
