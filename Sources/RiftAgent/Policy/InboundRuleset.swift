public import RiftProtocol

/// The nftables ruleset that enforces `allow_in` (PROTOCOL.md §6.11) on the agent's WireGuard interface: traffic
/// arriving from a restricted peer's overlay addresses passes only when it belongs to a connection this machine opened
/// or goes to an allowed TCP/UDP port. Peers without `allow_in` are not filtered at all.
///
/// A plain value: the peers' restrictions in, ruleset text out; `InboundFilter` loads it with `nft`.
public struct InboundRuleset: Sendable, Hashable {
    /// The WireGuard interface the rules apply to.
    public let interface: String
    /// The restricted peers: overlay addresses and what they may open here.
    public private(set) var restrictions: [PublicKey: PeerInfo] = [:]

    /// An empty ruleset for `interface`.
    public init(interface: String) {
        self.interface = interface
    }

    /// The nftables table holding the rules: one per interface, so that two agents never touch each other's rules.
    public var tableName: String {
        "riftgate_" + String(interface.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Records what `peer` may open here (nil `allowIn`: unrestricted). Returns whether anything changed.
    @discardableResult
    public mutating func update(_ peer: PeerInfo) -> Bool {
        let old = restrictions[peer.publicKey]
        restrictions[peer.publicKey] = peer.allowIn == nil ? nil : peer
        return old != restrictions[peer.publicKey]
    }

    /// Forgets `key`. Returns whether anything changed.
    @discardableResult
    public mutating func remove(_ key: PublicKey) -> Bool {
        restrictions.removeValue(forKey: key) != nil
    }

    /// Replaces every restriction with those of `peers` (a `welcome`). Returns whether anything changed.
    @discardableResult
    public mutating func replace(with peers: [PeerInfo]) -> Bool {
        let old = restrictions
        restrictions = [:]
        for peer in peers { update(peer) }
        return old != restrictions
    }

    /// The script for `nft -f`: atomically replaces the table (creating it first so the delete cannot fail), or
    /// removes it when no peer is restricted.
    public var script: String {
        var lines = ["table inet \(tableName)", "delete table inet \(tableName)"]
        guard !restrictions.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        lines.append("table inet \(tableName) {")
        lines.append("  chain inbound {")
        lines.append("    type filter hook input priority filter; policy accept;")
        lines.append("    iifname != \"\(interface)\" accept")
        lines.append("    ct state established,related accept")
        for (_, peer) in restrictions.sorted(by: { $0.key < $1.key }) {
            let sources = ["ip saddr \(peer.ipv4)", "ip6 saddr \(peer.ipv6)"]
            for source in sources {
                for transport in PortRule.Transport.allCases {
                    let ports = (peer.allowIn ?? []).filter { $0.transport == transport }
                    guard !ports.isEmpty else { continue }
                    let list = ports.map { $0.lowPort == $0.highPort ? "\($0.lowPort)" : "\($0.lowPort)-\($0.highPort)" }.joined(separator: ", ")
                    lines.append("    \(source) \(transport.rawValue) dport { \(list) } accept")
                }
                lines.append("    \(source) drop")
            }
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
