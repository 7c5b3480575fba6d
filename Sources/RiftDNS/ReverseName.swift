import RiftProtocol

/// The reverse-lookup names of addresses (RFC 1035 §3.5 `in-addr.arpa`, RFC 3596 §2.5 `ip6.arpa`), lower case,
/// without trailing dot.
enum ReverseName {
    /// `4.3.2.1.in-addr.arpa` for `1.2.3.4`, or the 32 nibbles of an IPv6 address under `ip6.arpa`; nil when `address`
    /// is neither.
    static func of(_ address: String) -> String? {
        if let v4 = IPv4Address(address) {
            let octets = (0..<4).map { (v4.value >> (8 * UInt32($0))) & 0xFF }
            return octets.map(String.init).joined(separator: ".") + ".in-addr.arpa"
        }
        if let v6 = IPv6Address(address) {
            let nibbles = v6.bytes.reversed().flatMap { [$0 & 0x0F, $0 >> 4] }
            return nibbles.map { String($0, radix: 16) }.joined(separator: ".") + ".ip6.arpa"
        }
        return nil
    }
}
