import Logging
import RiftProtocol

extension ExitRouting {
    /// Removes what an agent that did not stop cleanly left on this host (`riftgate cleanup`); returns how many rules.
    public static func removeStale() -> Int { RouteInstaller.removeStaleExitRouting(system: HostRouteSystem()) }
}

/// The using side of an exit node (`exit_node`): follows the chosen peer's presence and approval, installing
/// `ExitRouting` while it may be used and removing it (fail open: the host's own default route is back) as soon as it
/// may not.
extension RouteInstaller {
    /// Whether the hub approved `peer` as an exit node (`PeerInfo.exit_node`, protocol version 5; absent means no).
    static func approvedExitNode(_ peer: PeerInfo) -> Bool {
        peer.exitNode == true
    }

    /// What `riftgate status` shows under `exit_node`; nil when this machine neither offers nor uses an exit node.
    var exitNodeStatus: AgentStatus.ExitNode? {
        guard advertiseExitNode || exitNode != nil else { return nil }
        return AgentStatus.ExitNode(advertised: advertiseExitNode, using: exitNode.map { wanted in
            exitChoice.peer.flatMap { peers[$0]?.name } ?? wanted
        }, state: exitNode == nil ? nil : exitChoice.state, approved: advertiseExitNode ? ownApproval.exitNode : nil)
    }

    /// Re-chooses the exit node and brings the policy routing in line (after every change `apply` made).
    func applyExitNode() {
        removeStaleExitRules()
        guard let exitNode else { return }
        let choice = ExitNodeChoice(wanted: exitNode, peers: Array(peers.values), approved: exitApproval)
        let routing = ExitRouting(interface: interface, exempt: exempt)
        if choice.peer == exitChoice.peer, choice.peer == nil || routing == exitRouting {
            if choice.state != exitChoice.state { logger.warning("exit node \(exitNode): \(choice.state)") }
            exitChoice = choice
            return
        }
        removeExitRouting()
        exitChoice = choice
        guard let peer = choice.peer else {
            logger.warning("exit node \(exitNode): \(choice.state); traffic uses this host's own default route")
            return
        }
        for command in routing.installCommands {
            do { try system.ip(command) } catch {
                for undo in routing.removeCommands { try? system.ip(undo) }
                exitChoice = ExitNodeChoice(waiting: "cannot install the policy routing (ip \(command.joined(separator: " ")): \(error))")
                lastError = "exit node: \(exitChoice.state)"
                logger.error("exit node \(exitNode): \(exitChoice.state); traffic uses this host's own default route")
                return
            }
        }
        exitRouting = routing
        logger.info("exit node \(peers[peer]?.name ?? exitNode) active: all traffic goes through it (the hub and STUN/TURN servers \(routing.exempt.joined(separator: " ")) and ICE ports \(ExitRouting.icePorts.lowerBound)-\(ExitRouting.icePorts.upperBound) excepted)")
    }

    /// Removes the policy routing this run installed, if any.
    func removeExitRouting() {
        removeStaleExitRules()
        guard let routing = exitRouting else { return }
        for command in routing.removeCommands {
            do { try system.ip(command) } catch { logger.debug("cannot undo ip \(command.joined(separator: " ")): \(error)") }
        }
        exitRouting = nil
        logger.info("exit node routing removed: traffic uses this host's own default route")
    }

    /// Removes the rules and routes a crashed run may have left (once).
    func removeStaleExitRules() {
        guard exitRulesMayBeStale else { return }
        exitRulesMayBeStale = false
        let removed = Self.removeStaleExitRouting(system: system)
        if removed > 0 { logger.info("removed \(removed) exit-node routing rule(s) a previous run left") }
    }

    /// Removes every rule at the exit-node priorities and table `ExitRouting.table`'s routes (`riftgate cleanup`, which
    /// the systemd unit runs after the agent stopped, however it ended). Returns how many rules it removed.
    static func removeStaleExitRouting(system: any RouteSystem) -> Int {
        var removed = 0
        for command in ExitRouting.staleRuleDeletions {
            // One rule per command; a bound, in case `ip` kept succeeding without removing anything.
            for _ in 0..<64 {
                guard (try? system.ip(command)) != nil else { break }
                removed += 1
            }
        }
        for command in ExitRouting.staleRouteFlushes { try? system.ip(command) }
        return removed
    }
}
