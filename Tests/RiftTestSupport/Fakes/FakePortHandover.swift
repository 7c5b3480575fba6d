import RiftAgent
import RiftProtocol
import RiftSupport

/// Records the port hand-overs the runtime installs, per peer, as nftables would hold them. No packet is rewritten.
/// `refuse` makes every install fail, as on a machine without nft.
public final class FakePortHandover: PortHandoverRules {
    private struct State {
        var rules: [PublicKey: (handover: PortHandover, wireGuardPort: UInt16)] = [:]
        var refuse = false
        var clearedAll = 0
        var onRemove: (@Sendable (PublicKey) -> Void)?
    }

    private let state = Locked(State())

    /// No rule.
    public init() {}

    /// The hand-overs installed now, by peer.
    public var installed: [PublicKey: PortHandover] { state.withLock { $0.rules.mapValues(\.handover) } }
    /// The WireGuard port the rules of `peer` rewrite to and from.
    public func wireGuardPort(of peer: PublicKey) -> UInt16? { state.withLock { $0.rules[peer]?.wireGuardPort } }
    /// How many times every rule was removed (startup and shutdown).
    public var removeAllCount: Int { state.withLock { $0.clearedAll } }
    /// Whether installs fail.
    public var refuse: Bool {
        get { state.withLock { $0.refuse } }
        set { state.withLock { $0.refuse = newValue } }
    }

    public func install(_ handover: PortHandover, for peer: PublicKey, wireGuardPort: UInt16) -> Bool {
        state.withLock { state in
            guard !state.refuse else { return false }
            state.rules[peer] = (handover, wireGuardPort)
            return true
        }
    }

    /// Runs, outside the fake's lock, before the rules of a peer that has some are removed: a test reads there what
    /// else was configured at that moment.
    public var onRemove: (@Sendable (PublicKey) -> Void)? {
        get { state.withLock { $0.onRemove } }
        set { state.withLock { $0.onRemove = newValue } }
    }

    public func remove(_ peer: PublicKey) {
        let (had, observer) = state.withLock { ($0.rules[peer] != nil, $0.onRemove) }
        if had { observer?(peer) }
        state.withLock { _ = $0.rules.removeValue(forKey: peer) }
    }

    public func removeAll() {
        state.withLock {
            $0.rules.removeAll()
            $0.clearedAll += 1
        }
    }
}
