public import RiftProtocol

/// How a peer's overlay addresses derive from a host offset inside its network's prefixes.
///
/// Offset 0 is the IPv4 network address and the last offset its broadcast address; both are skipped, so a
/// /10 holds 4,194,302 peers and any prefix up to /30 works. The IPv6 address is the ULA prefix with the
/// same offset as interface identifier, so the two addresses of a peer are easy to relate.
public enum OverlayAddressing {
    /// The first offset handed out.
    public static let firstHostOffset: UInt64 = 1

    /// The last offset that may be handed out in `prefix` (its broadcast address is excluded).
    public static func lastHostOffset(in prefix: IPv4Prefix) -> UInt64 { prefix.size - 2 }

    /// How many peers `prefix` can address.
    public static func capacity(of prefix: IPv4Prefix) -> UInt64 {
        prefix.length > 30 ? 0 : lastHostOffset(in: prefix) - firstHostOffset + 1
    }

    /// The addresses at `offset`, or nil when `offset` lies outside the usable range of the IPv4 prefix.
    public static func addresses(offset: UInt64, ipv4Prefix: IPv4Prefix, ipv6Prefix: IPv6Prefix) -> (IPv4Address, IPv6Address)? {
        guard ipv4Prefix.length <= 30, (firstHostOffset...lastHostOffset(in: ipv4Prefix)).contains(offset),
              let ipv4 = ipv4Prefix.address(at: offset) else { return nil }
        return (ipv4, ipv6Prefix.address(interfaceID: offset))
    }

    /// Whether `prefix` can be a network's IPv4 prefix: at least two usable hosts.
    public static func isUsable(_ prefix: IPv4Prefix) -> Bool { prefix.length <= 30 }

    /// Whether `prefix` can be a network's IPv6 prefix: /64 or shorter, so that offsets fit the interface id.
    public static func isUsable(_ prefix: IPv6Prefix) -> Bool { prefix.length <= 64 }

    /// A random unique local prefix `fdXX:XXXX:XXXX::/64` (RFC 4193: a 40-bit random global id, subnet 0).
    public static func randomULAPrefix(randomBytes: [UInt8]) -> IPv6Prefix {
        precondition(randomBytes.count >= 5, "a ULA global id is 40 bits")
        let bytes = [0xFD] + randomBytes.prefix(5) + [UInt8](repeating: 0, count: 10)
        return IPv6Prefix("\(IPv6Address(bytes: bytes))/64")!
    }
}
