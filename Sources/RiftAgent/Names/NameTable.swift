import RiftProtocol

/// The names to register: the network's domain, this agent's own entry and one per peer, as the hub announced them
/// (PROTOCOL.md §6.13). A plain value fed by the hub's events, tested without I/O.
///
/// Labels and the domain are checked again here (`DNSNames`) although the hub checks them: they end up in the hosts
/// file, where a newline or a space in a name would add lines of the hub's choosing.
struct NameTable: Sendable, Equatable {
    /// One name and its two addresses.
    struct Entry: Sendable, Equatable {
        var label: String
        var ipv4: IPv4Address
        var ipv6: IPv6Address
    }

    /// The network's domain (`home.rift`); nil when the hub speaks no version 3 — then nothing is registered.
    private(set) var domain: String?
    /// This agent's own entry.
    private(set) var me: Entry?
    private(set) var peers: [PublicKey: Entry] = [:]
    /// The reverse-lookup zones of the overlay prefixes (`ReverseZones`), IPv4 first; empty without a domain.
    private(set) var reverseZones: [String] = []

    /// A `welcome`: everything replaced. Returns whether anything changed.
    mutating func welcome(_ welcome: Welcome) -> Bool {
        var next = NameTable()
        if let domain = welcome.dnsDomain, DNSNames.isValidDomain(domain) {
            next.domain = domain
            next.me = Self.entry(welcome.me)
            next.reverseZones = ReverseZones.of(welcome.ipv4Prefix) + ReverseZones.of(welcome.ipv6Prefix)
            for peer in welcome.peers { next.peers[peer.publicKey] = Self.entry(peer) }
        }
        defer { self = next }
        return next != self
    }

    /// A `peer_joined` (a new peer, or a known one renamed or re-addressed). Returns whether anything changed.
    mutating func update(_ peer: PeerInfo) -> Bool {
        guard domain != nil else { return false }
        let entry = Self.entry(peer)
        guard peers[peer.publicKey] != entry else { return false }
        peers[peer.publicKey] = entry
        return true
    }

    /// A `peer_left`. Returns whether anything changed.
    mutating func remove(_ key: PublicKey) -> Bool { peers.removeValue(forKey: key) != nil }

    /// Forgets everything (shutdown).
    mutating func clear() { self = NameTable() }

    /// The hosts file's lines, `<address> <fqdn>`: this agent first, then the peers by name, IPv4 before IPv6 for each.
    /// Empty without a domain.
    var hostsLines: [String] {
        guard let domain else { return [] }
        let others = peers.values.sorted { ($0.label, $0.ipv4.description) < ($1.label, $1.ipv4.description) }
        return ([me].compactMap { $0 } + others).flatMap { entry in
            ["\(entry.ipv4) \(entry.label).\(domain)", "\(entry.ipv6) \(entry.label).\(domain)"]
        }
    }

    private static func entry(_ peer: PeerInfo) -> Entry? {
        guard let label = peer.dnsName, DNSNames.isValidLabel(label) else { return nil }
        return Entry(label: label, ipv4: peer.ipv4, ipv6: peer.ipv6)
    }
}
