import RiftAgent
import RiftSupport

/// A clock that moves only when a test says so: deadlines and timers become exact and instant.
public final class ManualClock: AgentClock {
    private let milliseconds_ = Locked<Int64>(0)
    /// The wall clock at milliseconds 0 (WireGuard's handshake times are wall-clock seconds).
    public static let epoch: Int64 = 1_800_000_000

    /// A clock at 0.
    public init() {}

    public func milliseconds() -> Int64 { milliseconds_.withLock { $0 } }
    public func epochSeconds() -> Int64 { Self.epoch + milliseconds() / 1_000 }

    /// Moves the clock forward.
    public func advance(by milliseconds: Int64) { milliseconds_.withLock { $0 += milliseconds } }
}
