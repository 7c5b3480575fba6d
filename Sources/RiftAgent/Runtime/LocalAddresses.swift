import FoundationEssentials
import RiftProtocol
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// The host's own addresses that ICE may gather candidates on.
///
/// Excludes loopback, IPv6 link-local, the riftgate interface itself, every other tunnel interface (WireGuard, TUN:
/// no link-layer header) and anything inside the overlay prefixes: a candidate on a tunnel would route riftgate's
/// tunnel through another VPN, or through itself.
enum LocalAddresses {
    static func forICE(excludingInterface interface: String, overlay: IPv4Prefix?) -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            let flags = Int32(current.pointee.ifa_flags)
            guard let address = current.pointee.ifa_addr, flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0,
                  String(cString: current.pointee.ifa_name) != interface,
                  !isTunnel(String(cString: current.pointee.ifa_name)) else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            guard let text = SystemCall.numericAddress(address, length: SystemCall.socketAddressLength(family: family))?.host
            else { continue }
            if text.lowercased().hasPrefix("fe80") || text.contains("%") { continue }
            if let overlay, let v4 = IPv4Address(text), overlay.contains(v4) { continue }
            addresses.append(text)
        }
        return addresses
    }

    /// Whether the interface carries no link-layer header (ARPHRD_NONE, 65534): WireGuard and TUN devices.
    /// PPP uplinks (ARPHRD_PPP) are kept.
    static func isTunnel(_ name: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(name)/type", encoding: .utf8) else { return false }
        return text.trimmingWhitespaceAndNewlines() == "65534"
    }
}

extension LocalAddresses {
    /// The networks attached to this machine's other interfaces (address and netmask, host bits cleared), for refusing
    /// subnet routes that would send this machine's own LAN into the tunnel. Skips loopback, IPv6 link-local,
    /// `interface` and every other tunnel interface, like `forICE`.
    static func networks(excludingInterface interface: String) -> [LocalNetwork] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var networks: Set<LocalNetwork> = []
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            let flags = Int32(current.pointee.ifa_flags)
            let name = String(cString: current.pointee.ifa_name)
            guard let address = current.pointee.ifa_addr, let netmask = current.pointee.ifa_netmask,
                  flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0, name != interface, !isTunnel(name) else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let length = SystemCall.socketAddressLength(family: family)
            guard let text = SystemCall.numericAddress(address, length: length)?.host,
                  let mask = SystemCall.numericAddress(netmask, length: length)?.host else { continue }
            if text.lowercased().hasPrefix("fe80") || text.contains("%") { continue }
            if let prefix = network(address: text, mask: mask) { networks.insert(LocalNetwork(prefix, on: name)) }
        }
        return networks.sorted { ($0.prefix, $0.interface) < ($1.prefix, $1.interface) }
    }

    /// The network of `address` under the dotted or colon netmask `mask`; nil when either does not parse.
    static func network(address: String, mask: String) -> SubnetRoute? {
        if let v4 = IPv4Address(address), let maskValue = IPv4Address(mask) {
            return .ipv4(IPv4Prefix(network: v4, length: maskValue.value.nonzeroBitCount))
        }
        if let v6 = IPv6Address(address), let maskValue = IPv6Address(mask) {
            let length = maskValue.bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            // Built directly, not through `SubnetRoute(_:)`, which refuses lengths no route may have (< /16): a LAN's
            // prefix is what it is.
            return IPv6Prefix("\(IPv6Address(bytes: SubnetRoute.masked(v6.bytes, length)))/\(length)").map(SubnetRoute.ipv6)
        }
        return nil
    }
}
