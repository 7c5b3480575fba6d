import RiftProtocol

/// The client side of an exit node: the policy routing that sends all of this machine's traffic into the WireGuard
/// interface, where the exit peer's allowed IPs (0.0.0.0/0, ::/0) take it, while the traffic that carries the tunnel
/// itself keeps using the underlay. The mechanism is wg-quick's (`man wg-quick`, "fwmark", "suppress_prefixlength"),
/// for IPv4 and IPv6 alike:
///
/// - table `table` holds one route, `default dev <interface>`;
/// - rule `exemptPriority`: traffic to the hub and the STUN/TURN servers (`to <address>`) and every UDP datagram
///   from libnice's port range (`ipproto udp sport <icePorts>`: ICE checks, STUN, TURN allocations and the forwarded
///   data path all use those sockets) looks up `main`;
/// - rule `suppressPriority`: `main` with `suppress_prefixlength 0`, so every more specific route (the LAN, the overlay,
///   accepted subnet routes) still wins, but main's default route does not;
/// - rule `markPriority`: everything not marked `fwmark` (WireGuard's own UDP is, see `InterfaceConfiguration.fwmark`)
///   looks up `table`.
///
/// The rules are installed last-to-take-effect last (the mark rule after its exemptions) and removed in reverse. A
/// plain value: `RouteInstaller` runs the commands through `RouteSystem`.
public struct ExitRouting: Sendable, Equatable {
    /// The mark WireGuard puts on its own packets ("Rg").
    public static let fwmark: UInt32 = 0x5267
    /// The routing table holding the default route into the tunnel.
    public static let table = 0x5267
    /// The rule exempting the hub, STUN/TURN servers and libnice's ports.
    public static let exemptPriority = 32760
    /// The `suppress_prefixlength 0` rule.
    public static let suppressPriority = 32761
    /// The `not fwmark` rule that sends the rest into `table`.
    public static let markPriority = 32762
    /// libnice's local UDP ports while an exit node is used (below Linux's ephemeral range 32768-60999, so that other
    /// programs' sockets do not land in it and bypass the tunnel): 800 ports, a few per peer session.
    public static let icePorts: ClosedRange<UInt16> = 31000...31799

    /// The WireGuard interface.
    public var interface: String
    /// Underlay addresses that must never be reached through the tunnel (the hub, STUN/TURN servers), sorted.
    public var exempt: [String]

    /// Routing for `interface`, exempting `exempt` (numeric IPv4 or IPv6 addresses; anything else is ignored).
    public init(interface: String, exempt: [String]) {
        self.interface = interface
        self.exempt = Set(exempt.filter { IPv4Address($0) != nil || IPv6Address($0) != nil }).sorted()
    }

    /// The `ip` argument lists that install the routing, in order.
    public var installCommands: [[String]] {
        var commands: [[String]] = []
        for family in [[], ["-6"]] {
            let isIPv6 = !family.isEmpty
            commands.append(family + ["route", "replace", "default", "dev", interface, "table", String(Self.table)])
            for address in exempt where (IPv6Address(address) != nil) == isIPv6 {
                commands.append(family + ["rule", "add", "priority", String(Self.exemptPriority), "to", address, "lookup", "main"])
            }
            commands.append(family + ["rule", "add", "priority", String(Self.exemptPriority), "ipproto", "udp", "sport",
                                      "\(Self.icePorts.lowerBound)-\(Self.icePorts.upperBound)", "lookup", "main"])
            commands.append(family + ["rule", "add", "priority", String(Self.suppressPriority), "lookup", "main",
                                      "suppress_prefixlength", "0"])
            commands.append(family + ["rule", "add", "priority", String(Self.markPriority), "not", "fwmark",
                                      String(Self.fwmark), "lookup", String(Self.table)])
        }
        return commands
    }

    /// The `ip` argument lists that remove exactly what `installCommands` adds, in reverse order (the mark rule first,
    /// so that traffic never meets a half-removed set).
    public var removeCommands: [[String]] {
        installCommands.reversed().map { command in
            let family = command.first == "-6" ? ["-6"] : []
            let rest = Array(command.dropFirst(family.count))
            if rest.first == "route" { return family + ["route", "flush", "table", String(Self.table)] }
            return family + ["rule", "del"] + rest.dropFirst(2)
        }
    }

    /// What a crashed run may have left, whatever its exemptions were: every rule at the three priorities (one `ip rule
    /// del priority` removes one rule; `RouteInstaller` repeats each until it fails) and the table's routes.
    public static var staleRuleDeletions: [[String]] {
        [[], ["-6"]].flatMap { family in
            [markPriority, suppressPriority, exemptPriority].map { family + ["rule", "del", "priority", String($0)] }
        }
    }

    /// Flushes the table's routes (both families), after `staleRuleDeletions`.
    public static var staleRouteFlushes: [[String]] {
        [["route", "flush", "table", String(table)], ["-6", "route", "flush", "table", String(table)]]
    }
}
