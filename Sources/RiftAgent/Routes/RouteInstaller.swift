import Logging
import RiftProtocol

/// Keeps the host in line with the subnet routes: on the accepting side the kernel routes on the WireGuard interface
/// and the extra allowed IPs per peer (`RoutePlan`), on the advertising side the forwarding table and sysctls
/// (`RouteRuleset`), and exit nodes: on the advertising side the same table forwards to anything, on the using side
/// the policy routing of `ExitRouting` (see `RouteInstaller+ExitNode.swift`). Follows presence as the hub reports it.
///
/// Used from the agent's event loop only. Forwarding sysctls: the value found before is remembered, and on `removeAll`
/// forwarding is turned off again only if this run turned it on; a machine that forwarded before keeps forwarding.
/// After a crash the previous value is unknown, so forwarding stays on (the table that narrowed it is removed at the
/// next start).
final class RouteInstaller: RouteInstalling, @unchecked Sendable {
    // @unchecked: used from the runtime thread only (AgentCore's confinement, see there); never shared further.
    let interface: String
    private let advertised: [SubnetRoute]
    private let acceptRoutes: Bool
    private let masquerade: Bool
    let advertiseExitNode: Bool
    let exitNode: String?
    let system: any RouteSystem
    let logger: Logger
    /// The hub's and STUN/TURN servers' addresses, resolved at each welcome (exempt from an exit node).
    let underlayServers: @Sendable (Welcome) -> [String]
    /// The present peers, as the hub last described them.
    var peers: [PublicKey: PeerInfo] = [:]
    /// The exit node in use (its policy routing installed, its allowed IPs extended) or why not.
    var exitChoice: ExitNodeChoice
    /// The policy routing installed for the exit node; nil when none.
    var exitRouting: ExitRouting?
    /// Whether a crashed run's exit-node rules may still be there (cleared by the first `removeAll` or apply).
    var exitRulesMayBeStale = true
    /// This machine's own approved routes and exit-node approval, from the last welcome's `me`.
    var ownApproval: (routes: [SubnetRoute], exitNode: Bool) = ([], false)
    /// The exempt addresses of the last welcome.
    var exempt: [String] = []
    /// Whether a peer is an approved exit node (`approvedExitNode`; tests replace it).
    var exitApproval: @Sendable (PeerInfo) -> Bool = RouteInstaller.approvedExitNode
    /// Each peer's approved routes (from `PeerInfo.routes` once protocol version 4 carries them).
    private(set) var peerRoutes: [PublicKey: [SubnetRoute]] = [:]
    private var peerNames: [PublicKey: String] = [:]
    private var overlay: (IPv4Prefix, IPv6Prefix)?
    private(set) var plan = RoutePlan()
    /// The kernel routes this run added and has not removed.
    private(set) var installedRoutes: Set<SubnetRoute> = []
    /// The sysctls this run turned on, with the value they had before.
    private var previousSysctls: [String: String] = [:]
    /// Whether the table may exist in the kernel (loaded by this run, or not yet cleaned up after a previous one).
    private var tableMayExist = true
    /// The script last loaded successfully (not loaded again while unchanged: a peer joining changes nothing here).
    private var loadedScript: String?
    var lastError: String?

    /// The approved routes of `peer`, as the hub describes it (`PeerInfo.routes`, protocol version 4, PROTOCOL.md
    /// §6.14): absent means none (the hub never sends an empty list, and a v1-3 hub none at all).
    static func approvedRoutes(_ peer: PeerInfo) -> [SubnetRoute] {
        peer.routes ?? []
    }

    init(interface: String, advertised: [SubnetRoute], acceptRoutes: Bool, masquerade: Bool,
         advertiseExitNode: Bool = false, exitNode: String? = nil,
         underlayServers: @escaping @Sendable (Welcome) -> [String] = { _ in [] },
         system: any RouteSystem = HostRouteSystem(), logger: Logger) {
        self.interface = interface
        self.advertised = advertised
        self.acceptRoutes = acceptRoutes
        self.masquerade = masquerade
        self.advertiseExitNode = advertiseExitNode
        self.exitNode = exitNode
        self.underlayServers = underlayServers
        self.exitChoice = ExitNodeChoice(waiting: "not joined yet")
        self.system = system
        self.logger = logger
    }

    func welcome(_ welcome: Welcome) {
        overlay = (welcome.ipv4Prefix, welcome.ipv6Prefix)
        if exitNode != nil { exempt = underlayServers(welcome) }
        ownApproval = (welcome.me.routes ?? [], welcome.me.exitNode == true)
        peers = Dictionary(welcome.peers.map { ($0.publicKey, $0) }, uniquingKeysWith: { $1 })
        for peer in welcome.peers {
            peerNames[peer.publicKey] = peer.name
            let routes = Self.approvedRoutes(peer)
            peerRoutes[peer.publicKey] = routes.isEmpty ? nil : routes
        }
        let present = Set(welcome.peers.map(\.publicKey))
        peerRoutes = peerRoutes.filter { present.contains($0.key) }
        apply()
    }

    func joined(_ peer: PeerInfo) {
        peers[peer.publicKey] = peer
        peerNames[peer.publicKey] = peer.name
        let routes = Self.approvedRoutes(peer)
        peerRoutes[peer.publicKey] = routes.isEmpty ? nil : routes
        apply()
    }

    func setRoutes(_ routes: [SubnetRoute], for peer: PublicKey) {
        peerRoutes[peer] = routes.isEmpty ? nil : routes
        apply()
    }

    func left(_ key: PublicKey) {
        peerNames[key] = nil
        let wasPresent = peers.removeValue(forKey: key) != nil
        guard peerRoutes.removeValue(forKey: key) != nil || (wasPresent && exitNode != nil) else { return }
        apply()
    }

    func allowedIPs(for peer: PublicKey) -> [String] {
        plan.allowedIPs(for: peer) + (exitRouting != nil && exitChoice.peer == peer ? ["0.0.0.0/0", "::/0"] : [])
    }

    var status: AgentStatus.Routes {
        func name(_ key: PublicKey) -> String { peerNames[key] ?? key.description }
        return AgentStatus.Routes(
            advertised: advertised.map(\.description), accepted: acceptRoutes,
            installed: plan.accepted.sorted { $0.key < $1.key }.flatMap { key, routes in
                routes.map { AgentStatus.Routes.Installed(peer: name(key), route: $0.description) }
            },
            refused: plan.refusals.map { AgentStatus.Routes.Refused(peer: name($0.peer), route: $0.route.description, reason: $0.reason) },
            lastError: lastError, exitNode: exitNodeStatus,
            approved: ownApproval.routes.isEmpty ? nil : ownApproval.routes.map(\.description))
    }

    func removeAll() {
        removeExitRouting()
        plan = RoutePlan()
        for route in installedRoutes.sorted() { removeRoute(route) }
        if tableMayExist { loadTable(RouteRuleset(interface: interface, advertised: [], masquerade: masquerade, exitNode: false)) }
        for (name, value) in previousSysctls.sorted(by: { $0.key < $1.key }) {
            do { try system.setSysctl(name, to: value) } catch { logger.warning("cannot restore \(name) to \(value): \(error)") }
        }
        previousSysctls = [:]
    }

    /// Re-plans and brings the host in line: forwarding first (so an advertised route works as soon as it is approved),
    /// then the kernel routes.
    private func apply() {
        guard let overlay else { return }
        let (v4, v6) = overlay
        lastError = nil
        let ruleset = RouteRuleset(interface: interface, advertised: advertised, masquerade: masquerade,
                                   exitNode: advertiseExitNode, overlayIPv4: v4, overlayIPv6: v6)
        if ruleset.forwards || tableMayExist { loadTable(ruleset) }
        if ruleset.forwards { enableForwarding(ruleset.sysctls) }
        let old = plan
        plan = RoutePlan(overlayIPv4: v4, overlayIPv6: v6, localNetworks: acceptRoutes ? system.localNetworks(excluding: interface) : [],
                         advertised: advertised, acceptRoutes: acceptRoutes, peerRoutes: peerRoutes)
        for refusal in plan.refusals where !old.refusals.contains(refusal) {
            logger.warning("route \(refusal.route) of peer \(peerNames[refusal.peer] ?? refusal.peer.description) refused: \(refusal.reason)")
        }
        let wanted = Set(plan.kernelRoutes)
        for route in installedRoutes.subtracting(wanted).sorted() { removeRoute(route) }
        for route in wanted.subtracting(installedRoutes).sorted() {
            do {
                try system.ip(Self.family(route) + ["route", "replace", route.description, "dev", interface])
                installedRoutes.insert(route)
                logger.info("route \(route) installed on \(interface)")
            } catch {
                lastError = "cannot add route \(route): \(error)"
                logger.error("cannot add route \(route) on \(interface): \(error)")
            }
        }
        applyExitNode()
    }

    private func removeRoute(_ route: SubnetRoute) {
        do { try system.ip(Self.family(route) + ["route", "del", route.description, "dev", interface]) } catch {
            // Gone already (the interface was recreated, or an admin removed it): nothing left to undo.
            logger.debug("cannot remove route \(route): \(error)")
        }
        installedRoutes.remove(route)
    }

    static func family(_ route: SubnetRoute) -> [String] { route.isIPv6 ? ["-6"] : [] }

    private func loadTable(_ ruleset: RouteRuleset) {
        let loading = ruleset.forwards
        guard !loading || ruleset.script != loadedScript else { return }
        loadedScript = nil
        guard system.hasNFTables else {
            if loading {
                lastError = "nft is not installed: forwarding to the advertised routes is not enabled"
                logger.error("nft is not installed: the advertised routes are NOT forwarded")
            }
            tableMayExist = false
            return
        }
        do {
            try system.loadTable(ruleset.script, name: ruleset.tableName)
            tableMayExist = loading
            loadedScript = loading ? ruleset.script : nil
            if loading {
                let targets = ruleset.advertised.map(\.description) + (ruleset.exitNode ? ["anywhere (exit node)"] : [])
                logger.info("forwarding on \(interface) to \(targets.joined(separator: " "))")
            }
        } catch where !loading {
            logger.debug("cannot remove a stale routes table: \(error)")
            tableMayExist = false
        } catch {
            lastError = "cannot load the forwarding table: \(error)"
            logger.error("cannot load the forwarding table (advertised routes are not forwarded): \(error)")
        }
    }

    private func enableForwarding(_ names: [String]) {
        for name in names where previousSysctls[name] == nil {
            let before = system.sysctl(name)
            guard before != "1" else { continue }
            do {
                try system.setSysctl(name, to: "1")
                if let before { previousSysctls[name] = before }
                logger.info("\(name) = 1 (was \(before ?? "unreadable")); the routes table limits forwarding from \(interface) to the advertised routes")
            } catch {
                lastError = "cannot set \(name) = 1: \(error)"
                logger.error("cannot set \(name) = 1 (advertised routes are not forwarded): \(error)")
            }
        }
    }
}
