import RiftProtocol

/// The advertising side of subnet routes: the nftables table that lets peers reach the advertised prefixes through
/// this machine, and the forwarding sysctls that must be on.
///
/// Forwarding is a global switch in Linux (`net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding`); the table narrows
/// it for traffic from the WireGuard interface: new connections arriving on it are forwarded to the advertised
/// prefixes only, replies go back, and everything else arriving on it is dropped. With `masquerade` (the default),
/// traffic from the overlay to the advertised prefixes leaving by another interface takes this machine's address, so
/// the LAN needs no route back to the overlay. An exit node (`exitNode`) forwards new connections from the WireGuard
/// interface to any destination that leaves by another interface (never from one peer to another), and masquerades
/// all overlay traffic leaving by another interface, IPv4 and IPv6 (the overlay's IPv6 addresses are ULAs, not routed
/// on the Internet). A plain value; `RouteInstaller` loads it with `nft`.
public struct RouteRuleset: Sendable, Hashable {
    /// The WireGuard interface.
    public var interface: String
    /// The routes this machine advertises.
    public var advertised: [SubnetRoute]
    /// Whether to masquerade overlay traffic to the advertised prefixes.
    public var masquerade: Bool
    /// Whether this machine is an exit node (`advertise_exit_node`).
    public var exitNode: Bool
    /// The overlay prefixes (sources that are masqueraded).
    public var overlayIPv4: IPv4Prefix?
    /// The overlay's IPv6 prefix.
    public var overlayIPv6: IPv6Prefix?

    /// A ruleset for `interface`; the overlay prefixes are known once the hub's welcome arrives.
    public init(interface: String, advertised: [SubnetRoute], masquerade: Bool, exitNode: Bool = false,
                overlayIPv4: IPv4Prefix? = nil, overlayIPv6: IPv6Prefix? = nil) {
        self.interface = interface
        self.advertised = advertised.sorted()
        self.exitNode = exitNode
        self.masquerade = masquerade
        self.overlayIPv4 = overlayIPv4
        self.overlayIPv6 = overlayIPv6
    }

    /// One table per interface, so that two agents (or the inbound filter) never touch each other's rules.
    public var tableName: String {
        "riftgate_routes_" + String(interface.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Whether there is anything to forward (the table is loaded), else the table is only removed.
    public var forwards: Bool { exitNode || !advertised.isEmpty }

    /// The sysctls that must be 1: IPv4 forwarding when an IPv4 route is advertised, IPv6 forwarding for IPv6, both
    /// for an exit node.
    public var sysctls: [String] {
        var names: [String] = []
        if exitNode || advertised.contains(where: { !$0.isIPv6 }) { names.append("net.ipv4.ip_forward") }
        if exitNode || advertised.contains(where: \.isIPv6) { names.append("net.ipv6.conf.all.forwarding") }
        return names
    }

    /// The script for `nft -f`: atomically replaces the table (creating it first so the delete cannot fail), or
    /// only removes it when nothing is advertised.
    public var script: String {
        var lines = ["table inet \(tableName)", "delete table inet \(tableName)"]
        guard forwards else { return lines.joined(separator: "\n") + "\n" }
        let quotedInterface = "\"\(interface)\""
        let v4 = advertised.filter { !$0.isIPv6 }.map(\.description).joined(separator: ", ")
        let v6 = advertised.filter(\.isIPv6).map(\.description).joined(separator: ", ")
        lines.append("table inet \(tableName) {")
        lines.append("  chain forward {")
        lines.append("    type filter hook forward priority filter; policy accept;")
        lines.append("    oifname \(quotedInterface) ct state established,related accept")
        if !v4.isEmpty { lines.append("    iifname \(quotedInterface) ip daddr { \(v4) } accept") }
        if !v6.isEmpty { lines.append("    iifname \(quotedInterface) ip6 daddr { \(v6) } accept") }
        if exitNode { lines.append("    iifname \(quotedInterface) oifname != \(quotedInterface) accept") }
        lines.append("    iifname \(quotedInterface) drop")
        lines.append("  }")
        if masquerade {
            lines.append("  chain postrouting {")
            lines.append("    type nat hook postrouting priority srcnat; policy accept;")
            if exitNode {
                if let overlayIPv4 { lines.append("    oifname != \(quotedInterface) ip saddr \(overlayIPv4) masquerade") }
                if let overlayIPv6 { lines.append("    oifname != \(quotedInterface) ip6 saddr \(overlayIPv6) masquerade") }
            }
            if !exitNode, !v4.isEmpty, let overlayIPv4 {
                lines.append("    oifname != \(quotedInterface) ip saddr \(overlayIPv4) ip daddr { \(v4) } masquerade")
            }
            if !exitNode, !v6.isEmpty, let overlayIPv6 {
                lines.append("    oifname != \(quotedInterface) ip6 saddr \(overlayIPv6) ip6 daddr { \(v6) } masquerade")
            }
            lines.append("  }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
