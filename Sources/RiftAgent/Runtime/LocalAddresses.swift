import FoundationEssentials
import RiftProtocol
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// The host's own addresses that ICE may gather candidates on.
///
/// Excludes loopback, IPv6 link-local, the riftgate interface itself, every other tunnel interface (WireGuard, TUN:
/// no link-layer header), the networks container and virtual-machine managers make for their guests
/// (`isGuestNetwork`) and anything inside the overlay prefixes: a candidate on a tunnel would route riftgate's tunnel
/// through another VPN, or through itself, and one on a guest network reaches only this machine's own guests.
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
                  !isIgnored(String(cString: current.pointee.ifa_name)) else { continue }
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

    /// Whether ICE and roaming leave the interface alone: a tunnel or a guest network.
    static func isIgnored(_ name: String) -> Bool { isGuestNetwork(name) || isTunnel(name) }

    /// Whether the interface is one that Docker, Podman, libvirt, LXC/LXD/Incus or a Kubernetes network plugin made
    /// for the guests of this machine, by the names those tools give them: `docker0` and Docker's own networks
    /// (`br-` and 12 hex digits; a bridge named otherwise, such as OpenWrt's `br-lan`, is kept), `veth*` (a
    /// container's end on the host), `virbr*` and `vnet*` (libvirt), `lxcbr*`, `lxdbr*`, `incusbr*`, `podman*` and
    /// `cni*`, `flannel.*`, `cali*`, `vxlan.calico`, `kube-*`. Two machines running Docker both hold `172.17.0.1`: a
    /// candidate there is one more pair to check that can never connect them, its address is no use to a peer, and
    /// `docker network rm` would otherwise count as the machine's network changing (Mesh+Underlay). A guest that runs
    /// an agent still connects to this machine's agent: its checks to this machine's other addresses arrive from the
    /// guest's address, which ICE learns as peer-reflexive.
    static func isGuestNetwork(_ name: String) -> Bool {
        if name == "docker0" || name == "vxlan.calico" { return true }
        if name.hasPrefix("br-") {
            let suffix = name.dropFirst(3)
            return suffix.count == 12 && suffix.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        }
        let prefixes = ["veth", "virbr", "vnet", "lxcbr", "lxdbr", "incusbr", "podman", "cni", "flannel.", "cali", "kube-"]
        return prefixes.contains { name.hasPrefix($0) }
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
    /// `interface` and every other tunnel interface, like `forICE`, but keeps guest networks: a route onto Docker's
    /// `172.17.0.0/16` would break this machine's containers.
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
