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

    /// Creates a peer description.
    public init(publicKey: PublicKey, name: String, ipv4: IPv4Address, ipv6: IPv6Address) {
        self.publicKey = publicKey
        self.name = name
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    var json: JSONValue {
        .object([
            "public_key": .string(publicKey.base64), "name": .string(name),
            "ipv4": .string(ipv4.description), "ipv6": .string(ipv6.description),
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
        return PeerInfo(publicKey: key, name: name, ipv4: ipv4, ipv6: ipv6)
    }
}
