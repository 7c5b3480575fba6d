/// What a network knows about one peer: identity, name and stable overlay addresses.
public struct PeerInfo: Sendable, Hashable {
    /// The peer's WireGuard public key.
    public var publicKey: PublicKey
    /// The name the peer gave itself (its host name by default).
    public var name: String
    /// Its overlay IPv4 address, stable for its key.
    public var ipv4: IPv4Address
    /// Its overlay IPv6 address, stable for its key.
    public var ipv6: IPv6Address
    /// Protocol version 2: what this peer may open towards the recipient of the message, by the network's access
    /// policy (PROTOCOL.md §6.11). nil (the field absent) means everything; an empty list means nothing but replies
    /// to connections the recipient opened. The recipient enforces it on its own WireGuard interface.
    public var allowIn: [PortRule]?
    /// Protocol version 3: the peer's DNS label, unique in its network; the peer is `<dnsName>.<welcome.dnsDomain>`
    /// (PROTOCOL.md §6.13). nil for sessions speaking an older version.
    public var dnsName: String?
    /// Protocol version 4: the subnet routes this peer advertises and an administrator approved (PROTOCOL.md §6.14),
    /// in `SubnetRoute` order. nil (the field absent) means none; never empty on the wire.
    public var routes: [SubnetRoute]?
    /// Protocol version 5: true when this peer advertises itself as an exit node in its current session **and** an
    /// administrator approved it (PROTOCOL.md §6.15). nil (the field absent) means not an exit node. On the wire the
    /// field is `true` or absent, never `false`: encoding writes nil and `false` alike as absent, and decoding
    /// refuses `"exit_node": false` with `invalid_value` (so a decoded value is nil or true).
    public var exitNode: Bool?

    /// The most port rules one `allow_in` may hold.
    public static let maximumAllowInRules = 64

    /// Creates a peer description.
    public init(publicKey: PublicKey, name: String, ipv4: IPv4Address, ipv6: IPv6Address, allowIn: [PortRule]? = nil,
                dnsName: String? = nil, routes: [SubnetRoute]? = nil, exitNode: Bool? = nil) {
        self.publicKey = publicKey
        self.name = name
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.allowIn = allowIn
        self.dnsName = dnsName
        self.routes = routes
        self.exitNode = exitNode
    }

    /// Whether this peer is an approved exit node now (`exitNode == true`).
    public var isExitNode: Bool { exitNode == true }

    var json: JSONValue {
        .fields([
            ("allow_in", allowIn.map { rules in .array(rules.map { .string($0.description) }) }),
            ("dns_name", dnsName.map(JSONValue.string)),
            ("exit_node", exitNode == true ? JSONValue.bool(true) : nil),
            ("ipv4", .string(ipv4.description)), ("ipv6", .string(ipv6.description)),
            ("name", .string(name)), ("public_key", .string(publicKey.base64)),
            ("routes", routes.flatMap { list -> JSONValue? in list.isEmpty ? nil : JSONValue.array(list.map { JSONValue.string($0.description) }) }),
        ])
    }

    static func read(_ reader: inout ObjectReader) throws(ProtocolError) -> PeerInfo {
        let key = try reader.publicKey("public_key")
        let name = try reader.string("name", maxLength: 4 * Limits.maximumPeerNameLength)
        guard Names.isValidPeerName(name) else { throw ProtocolError(.invalidValue, "peer names are 1-63 Unicode scalars without control, format or line-separator characters, not starting or ending with a space") }
        guard let ipv4 = IPv4Address(try reader.string("ipv4", maxLength: 15)) else {
            throw ProtocolError(.invalidValue, "ipv4 is not a dotted-quad IPv4 address")
        }
        guard let ipv6 = IPv6Address(try reader.string("ipv6", maxLength: 39)) else {
            throw ProtocolError(.invalidValue, "ipv6 is not an IPv6 address")
        }
        var allowIn: [PortRule]?
        if reader.optionalValue("allow_in") != nil {
            let texts = try reader.strings("allow_in", maxCount: maximumAllowInRules, maxLength: 16)
            allowIn = try texts.map { text throws(ProtocolError) in
                guard let rule = PortRule(text) else { throw ProtocolError(.invalidValue, "allow_in holds \"\(text)\", not a port rule such as tcp/22 or udp/5000-5010") }
                return rule
            }
        }
        let dnsName = try reader.optionalString("dns_name", maxLength: DNSNames.maximumLabelLength)
        if let dnsName { try DNSNames.checkLabel(dnsName, "dns_name") }
        let routes = try SubnetRoute.readList(&reader, "routes", "routes")
        let exitNode = try reader.optionalBool("exit_node")
        if exitNode == false {
            throw ProtocolError(.invalidValue, "exit_node is true or absent; a hub never sends false")
        }
        return PeerInfo(publicKey: key, name: name, ipv4: ipv4, ipv6: ipv6, allowIn: allowIn, dnsName: dnsName, routes: routes,
                        exitNode: exitNode)
    }
}
