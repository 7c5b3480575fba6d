/// One name in a `DNSZone`: a peer's DNS label and its overlay addresses.
public struct DNSHost: Sendable, Hashable {
    /// The label (`laptop-b`), one of `DNSNames.isValidLabel`'s; compared case-insensitively.
    public var label: String
    /// Its overlay IPv4 address (dotted quad), if any.
    public var ipv4: String?
    /// Its overlay IPv6 address, if any.
    public var ipv6: String?

    public init(label: String, ipv4: String?, ipv6: String?) {
        self.label = label
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }
}
