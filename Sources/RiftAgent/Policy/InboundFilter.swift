import FoundationEssentials
import Logging
import RiftProtocol
import RiftSupport

/// Keeps the kernel's nftables rules for the WireGuard interface in line with `InboundRuleset`: loads the table when
/// a peer is restricted, removes it when none is, at startup (a table left by a crashed run) and at shutdown.
///
/// Used from the agent's event loop only. Loading fails safe in one direction only: when `nft` is missing or
/// refuses the rules, restricted peers are *not* filtered, which the log says loudly at error level, and a later change
/// tries again.
final class InboundFilter: InboundFiltering, @unchecked Sendable {
    // @unchecked: used from the runtime thread only (AgentCore's confinement, see there); never shared further.
    private(set) var ruleset: InboundRuleset
    private let logger: Logger
    /// Whether the table may exist in the kernel (loaded by this run, or not yet cleaned up after a previous one).
    private var mayExist = true

    init(interface: String, logger: Logger) {
        self.ruleset = InboundRuleset(interface: interface)
        self.logger = logger
    }

    /// A `welcome`: every restriction replaced.
    func welcome(_ peers: [PeerInfo]) {
        if ruleset.replace(with: peers) || mayExist { apply() }
    }

    /// A `peer_joined`: the peer's restriction set or lifted.
    func joined(_ peer: PeerInfo) {
        if ruleset.update(peer) { apply() }
    }

    /// A `peer_left`.
    func left(_ key: PublicKey) {
        if ruleset.remove(key) { apply() }
    }

    /// Removes the table (startup and shutdown). Safe when it does not exist.
    func removeAll() {
        ruleset.replace(with: [])
        if mayExist { apply() }
    }

    private func apply() {
        let script = ruleset.script
        let restricted = !ruleset.restrictions.isEmpty
        guard restricted || mayExist else { return }
        guard NFTables.isInstalled else {
            if restricted { logger.error("nft is not installed: the access policy's port rules for \(ruleset.restrictions.count) peer(s) are NOT enforced") }
            mayExist = false
            return
        }
        do {
            try NFTables.load(script, tableName: ruleset.tableName)
            mayExist = restricted
            logger.info(restricted ? "inbound filter on \(ruleset.interface): \(ruleset.restrictions.count) restricted peer(s)" : "inbound filter removed")
        } catch where !restricted {
            // Only cleaning up (nothing to enforce): an agent without the right to run nft has nothing to remove either.
            logger.debug("cannot remove a stale inbound filter: \(error)")
            mayExist = false
        } catch {
            logger.error("cannot load the inbound filter (access policy port rules are not enforced): \(error)")
        }
    }
}
