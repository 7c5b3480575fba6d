import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel which local address it would use to reach a destination now: a UDP socket is connected (which
/// only consults the routing table; nothing is sent) and its name read. Also lists every address the host holds.
enum RouteProbe {
    /// The source address for `destination` (numeric IPv4 or IPv6), or nil when there is no route to it.
    static func sourceAddress(toward destination: String, port: UInt16 = 9) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(destination, String(port), &hints, &found) == 0, let first = found else { return nil }
        defer { freeaddrinfo(first) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return SystemCall.numericAddress(storage, length: length).map { SystemCall.unscoped($0.host) }
    }

    /// Every address on every interface that is up (loopback and tunnels included), as numeric text.
    static func hostAddresses() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var addresses: Set<String> = []
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, Int32(current.pointee.ifa_flags) & Int32(IFF_UP) != 0 else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            if let name = SystemCall.numericAddress(address, length: SystemCall.socketAddressLength(family: family)) {
                addresses.insert(SystemCall.unscoped(name.host))
            }
        }
        return addresses
    }
}
