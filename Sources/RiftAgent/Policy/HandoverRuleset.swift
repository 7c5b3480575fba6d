public import RiftProtocol

/// The nftables ruleset of the port hand-overs of one WireGuard interface (see `PortHandover`): per peer, one rule
/// that makes WireGuard's datagrams to the remote candidate leave from the ICE socket's port, and one that hands the
/// peer's WireGuard datagrams arriving on that port to WireGuard's. Both are stateless header rewrites; nft updates the
/// UDP checksum.
///
/// - The output rule runs at priority raw (-300), before conntrack: conntrack, the NAT routers on the way and any host
///   firewall see one flow, the one ICE's checks created, so its mapping and ESTABLISHED state are reused.
/// - The prerouting rule runs at priority mangle (-150), after conntrack (so the flow still matches the ICE socket's
///   entry) and before the socket lookup. It leaves STUN alone — libnice's consent checks must still reach libnice — by
///   matching only WireGuard's framing: a message type byte followed by three zero bytes (STUN's second byte is its
///   message type's low byte, never zero for the binding messages ICE sends) and no STUN magic cookie at offset 4.
///
/// A plain value: hand-overs in, ruleset text out; `HandoverTable` loads it with `nft`.
public struct HandoverRuleset: Sendable, Hashable {
    /// The WireGuard interface whose hand-overs these are (it names the table).
    public let interface: String
    /// WireGuard's listen port (W).
    public var wireGuardPort: UInt16
    /// Each handed-over peer's pair.
    public private(set) var handovers: [PublicKey: PortHandover] = [:]

    /// No hand-over, for `interface`.
    public init(interface: String, wireGuardPort: UInt16 = 0) {
        self.interface = interface
        self.wireGuardPort = wireGuardPort
    }

    /// The table: one per interface, so two agents never touch each other's rules.
    public var tableName: String {
        "riftgate_handover_" + String(interface.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Sets `peer`'s hand-over (nil: none). Returns whether anything changed.
    @discardableResult
    public mutating func set(_ handover: PortHandover?, for peer: PublicKey) -> Bool {
        let old = handovers[peer]
        handovers[peer] = handover
        return old != handover
    }

    /// Forgets every hand-over.
    public mutating func removeAll() { handovers = [:] }

    /// The script for `nft -f`: atomically replaces the table (creating it first so the delete cannot fail), or only
    /// removes it when there is no hand-over.
    public var script: String {
        var lines = ["table inet \(tableName)", "delete table inet \(tableName)"]
        guard !handovers.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        let pairs = handovers.sorted { $0.key < $1.key }.map(\.value)
        lines.append("table inet \(tableName) {")
        lines.append("  chain output {")
        lines.append("    type filter hook output priority raw; policy accept;")
        for pair in pairs {
            let family = pair.local.isIPv6 ? "ip6" : "ip"
            lines.append("    \(family) saddr \(pair.local.address) \(family) daddr \(pair.remote.address) udp sport \(wireGuardPort) "
                + "udp dport \(pair.remote.port) udp sport set \(pair.local.port)")
        }
        lines.append("  }")
        lines.append("  chain prerouting {")
        lines.append("    type filter hook prerouting priority mangle; policy accept;")
        for pair in pairs {
            let family = pair.local.isIPv6 ? "ip6" : "ip"
            lines.append("    \(family) saddr \(pair.remote.address) \(family) daddr \(pair.local.address) udp sport \(pair.remote.port) "
                + "udp dport \(pair.local.port) @th,72,24 0 @th,96,32 != 0x2112a442 udp dport set \(wireGuardPort)")
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
