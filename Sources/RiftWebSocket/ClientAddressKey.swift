#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client address as the server limits it: an IPv4 address (also when it arrives IPv4-mapped on a dual-stack
/// socket), or the /64 of an IPv6 address, since one host usually holds a whole /64 and could otherwise pick a fresh
/// address for every connection.
struct ClientAddressKey: Hashable, CustomStringConvertible {
    /// IPv4: the four bytes; IPv6: the first eight (the rest zero).
    private let bytes: [UInt8]

    /// From a socket address' raw address bytes: 4 for IPv4, 16 for IPv6. nil for any other length.
    init?(addressBytes: some Collection<UInt8>) {
        let raw = Array(addressBytes)
        switch raw.count {
        case 4:
            bytes = raw
        case 16 where raw.prefix(10).allSatisfy({ $0 == 0 }) && raw[10] == 0xff && raw[11] == 0xff:
            bytes = Array(raw.suffix(4))
        case 16:
            bytes = Array(raw.prefix(8)) + [UInt8](repeating: 0, count: 8)
        default:
            return nil
        }
    }

    /// From an IPv4 or IPv6 address literal (`inet_pton`'s forms); nil for anything else.
    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(addressBytes: withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        self.init(addressBytes: withUnsafeBytes(of: &v6) { Array($0) })
    }

    /// 127.0.0.0/8 or ::1 (whose /64 is ::/64, which holds nothing else a client could use).
    var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes.allSatisfy { $0 == 0 }
    }

    /// Dotted quad, or the /64 in RFC 5952-like text (`2001:db8:1:2::/64`).
    var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
