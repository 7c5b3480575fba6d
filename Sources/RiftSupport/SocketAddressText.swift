import Glibc

extension SystemCall {
    /// The numeric text of an IPv4 or IPv6 socket address and its port, through `getnameinfo(NI_NUMERICHOST |
    /// NI_NUMERICSERV)`: the one place socket addresses become text. The host is as `getnameinfo` writes it, so an IPv6
    /// link-local address keeps its zone (`fe80::1%eth0`; see `unscoped`). Nil when the address cannot be read.
    public static func numericAddress(_ address: UnsafePointer<sockaddr>, length: socklen_t) -> (host: String, port: UInt16)? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let named = getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                                NI_NUMERICHOST | NI_NUMERICSERV)
        guard named == 0 else { return nil }
        return (String(cString: host), UInt16(String(cString: service)) ?? 0)
    }

    /// `numericAddress` of an address held in a `sockaddr_storage` (as `getsockname` and friends fill it).
    public static func numericAddress(_ storage: sockaddr_storage, length: socklen_t) -> (host: String, port: UInt16)? {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { numericAddress($0, length: length) }
        }
    }

    /// The length of a `sockaddr_in` or `sockaddr_in6` for `family` (AF_INET or AF_INET6).
    public static func socketAddressLength(family: Int32) -> socklen_t {
        socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }

    /// `host` without its IPv6 zone (`fe80::1%eth0` -> `fe80::1`).
    public static func unscoped(_ host: String) -> String {
        guard let percent = host.firstIndex(of: "%") else { return host }
        return String(host[..<percent])
    }
}
