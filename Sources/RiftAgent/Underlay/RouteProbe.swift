import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel which local address it would use to reach a destination now: a UDP socket is connected (which
/// only consults the routing table; nothing is sent) and its name read. Also lists every address the host holds.
enum RouteProbe {
    /// The source address for `destination` (numeric IPv4 or IPv6), or nil when there is no route to it.
    static func sourceAddress(toward destination: String, port: UInt16 = 9) -> String? {
        guard let address = (try? SystemCall.resolve(destination, port: port, type: .datagram, numeric: true))?.first,
              let socket = try? OwnedDescriptor(SystemCall.socket(address.family, .datagram)),
              (try? SystemCall.connect(socket.rawValue, to: address)) != nil,
              let local = try? SystemCall.localAddress(socket.rawValue) else { return nil }
        return local.numeric.map { SystemCall.unscoped($0.host) }
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
