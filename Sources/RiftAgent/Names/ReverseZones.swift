import RiftProtocol

/// The reverse-lookup (PTR) zones that cover an overlay prefix exactly, for systemd-resolved's routing domains: with
/// `~64.100.in-addr.arpa` … `~127.100.in-addr.arpa` on the link, reverse lookups of overlay addresses reach the
/// agent's resolver and no other address's do (a coarser `~100.in-addr.arpa` would send public 100.x addresses there
/// too, and the agent refuses them). A prefix that does not end on an octet (a nibble for IPv6) boundary takes
/// several zones: a /10 takes 64.
enum ReverseZones {
    /// The zones of `prefix`, one per aligned block; none for prefixes shorter than /8 (more than 128 zones).
    static func of(_ prefix: IPv4Prefix) -> [String] {
        guard (8...32).contains(prefix.length) else { return [] }
        let octets = (prefix.length + 7) / 8
        let spare = octets * 8 - prefix.length
        let base = prefix.network.value >> UInt32(32 - octets * 8)
        return (0..<(UInt32(1) << UInt32(spare))).map { index in
            let block = base | index
            let labels = (0..<octets).map { String((block >> UInt32(8 * $0)) & 0xFF) }
            return labels.joined(separator: ".") + ".in-addr.arpa"
        }
    }

    /// The zones of `prefix`, nibble by nibble; none for prefixes shorter than /16.
    static func of(_ prefix: IPv6Prefix) -> [String] {
        guard (16...128).contains(prefix.length) else { return [] }
        let nibbles = (prefix.length + 3) / 4
        let spare = nibbles * 4 - prefix.length
        let digits = prefix.network.bytes.flatMap { [Int($0 >> 4), Int($0 & 0x0F)] }.prefix(nibbles)
        return (0..<(1 << spare)).map { index in
            var block = Array(digits)
            block[nibbles - 1] = (block[nibbles - 1] & ~((1 << spare) - 1)) | index
            return block.reversed().map { String($0, radix: 16) }.joined(separator: ".") + ".ip6.arpa"
        }
    }
}
