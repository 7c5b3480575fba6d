import FoundationEssentials
import Logging
import RiftProtocol
import RiftSupport

/// Keeps the kernel's nftables table of port hand-overs in line with `HandoverRuleset`: reloads it when a hand-over
/// is set or lifted, removes it at startup (a table left by a crashed run) and at shutdown.
///
/// Used from the agent's event loop only. When `nft` is missing or refuses the rules, `install` says so and the peer is
/// forwarded instead.
final class HandoverTable: PortHandoverRules, @unchecked Sendable {
    // @unchecked: used from the runtime thread only (AgentCore's confinement, see there); never shared further.
    private(set) var ruleset: HandoverRuleset
    private let logger: Logger
    /// Whether the table may exist in the kernel (loaded by this run, or not yet cleaned up after a previous one).
    private var mayExist = true

    init(interface: String, logger: Logger) {
        self.ruleset = HandoverRuleset(interface: interface)
        self.logger = logger
    }

    func install(_ handover: PortHandover, for peer: PublicKey, wireGuardPort: UInt16) -> Bool {
        let portChanged = ruleset.wireGuardPort != wireGuardPort
        ruleset.wireGuardPort = wireGuardPort
        guard ruleset.set(handover, for: peer) || portChanged || !mayExist else { return true }
        if load() { return true }
        ruleset.set(nil, for: peer)
        _ = load()
        return false
    }

    func remove(_ peer: PublicKey) {
        if ruleset.set(nil, for: peer) { _ = load() }
    }

    func removeAll() {
        ruleset.removeAll()
        if mayExist { _ = load() }
    }

    /// Loads the ruleset; returns whether nft accepted it.
    private func load() -> Bool {
        let active = !ruleset.handovers.isEmpty
        guard NFTables.isInstalled else {
            if active { logger.error("nft is not installed: no port hand-over; reflexive pairs are forwarded") }
            mayExist = false
            return !active
        }
        do {
            try NFTables.load(ruleset.script, tableName: ruleset.tableName)
            mayExist = active
            logger.debug(active ? "port hand-over table on \(ruleset.interface): \(ruleset.handovers.count) peer(s)" : "port hand-over table removed")
            return true
        } catch where !active {
            logger.debug("cannot remove a stale port hand-over table: \(error)")
            mayExist = false
            return true
        } catch {
            logger.error("cannot load the port hand-over rules (the peer is forwarded instead): \(error)")
            return false
        }
    }
}
