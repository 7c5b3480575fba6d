internal import CRiftLinux
import Glibc
import RiftProtocol

/// Talks to kernel WireGuard over generic netlink (`CRiftLinux_wg_get_device`, `CRiftLinux_wg_set_peer`,
/// `CRiftLinux_wg_send_keepalive`): the status `wg show dump` gives, peer changes and an immediate keepalive, without
/// spawning `wg`, which the agent's counter reads (four a second), keepalive requests (up to one a second per quiet
/// peer) and path changes would otherwise do each time.
enum KernelWireGuardNetlink {
    /// The status of kernel WireGuard interface `name` in this network namespace; fails with the errno netlink gave
    /// (ENOENT or ENODEV: no such device or no WireGuard family; EPERM without CAP_NET_ADMIN).
    static func status(of name: String) throws(WireGuardError) -> WireGuardDeviceStatus {
        var device = CRiftLinux_wg_device()
        try check(CRiftLinux_wg_get_device(name, &device), "read \(name)")
        defer { CRiftLinux_wg_device_free(&device) }
        var status = WireGuardDeviceStatus(listenPort: device.listen_port,
                                           publicKey: device.has_public_key != 0 ? key(device.public_key) : nil, peers: [])
        let allowed = UnsafeBufferPointer(start: device.allowed_ips, count: Int(device.allowed_ip_count))
        for peer in UnsafeBufferPointer(start: device.peers, count: Int(device.peer_count)) {
            guard let publicKey = key(peer.public_key) else { continue }
            let range = Int(peer.first_allowed_ip)..<Int(peer.first_allowed_ip + peer.allowed_ip_count)
            status.peers.append(WireGuardPeerStatus(
                publicKey: publicKey, endpoint: endpoint(peer)?.description,
                lastHandshake: peer.last_handshake_seconds == 0 ? nil : peer.last_handshake_seconds,
                rxBytes: peer.rx_bytes, txBytes: peer.tx_bytes,
                allowedIPs: allowed[range].compactMap(prefix),
                persistentKeepalive: peer.persistent_keepalive == 0 ? nil : peer.persistent_keepalive))
        }
        return status
    }

    /// Adds or updates `peer` as `wg set … peer` does: its endpoint when it has one, its keepalive (nil: off), and its
    /// allowed IPs as `change` says (`.keep` leaves them, `.add` adds without touching the rest — which `wg` cannot —
    /// and `.replace` replaces). The prefixes must be canonical (`AllowedIPs.canonical`). Fails with netlink's errno.
    static func setPeer(on name: String, _ peer: WireGuardPeer, allowedIPs change: AllowedIPsChange) throws(WireGuardError) {
        var request = CRiftLinux_wg_peer_change()
        withUnsafeMutableBytes(of: &request.public_key) { $0.copyBytes(from: peer.publicKey.bytes) }
        request.persistent_keepalive = peer.persistentKeepalive ?? 0
        if let endpoint = peer.endpoint {
            request.endpoint_port = endpoint.port
            switch endpoint.host {
            case .ipv4(let address):
                request.endpoint_family = UInt8(AF_INET)
                withUnsafeMutableBytes(of: &request.endpoint_address) { $0.copyBytes(from: bytes(of: address)) }
            case .ipv6(let address):
                request.endpoint_family = UInt8(AF_INET6)
                withUnsafeMutableBytes(of: &request.endpoint_address) { $0.copyBytes(from: address.bytes) }
            }
        }
        let prefixes: [String]
        switch change {
        case .keep:
            (request.allowed_ips_mode, prefixes) = (UInt8(CRiftLinux_wg_leave_allowed_ips), [])
        case .add(let added, _):
            (request.allowed_ips_mode, prefixes) = (UInt8(CRiftLinux_wg_add_allowed_ips), added)
        case .replace(let all):
            (request.allowed_ips_mode, prefixes) = (UInt8(CRiftLinux_wg_replace_allowed_ips), all)
        }
        let entries = try prefixes.map { (text: String) throws(WireGuardError) -> CRiftLinux_wg_allowed_ip in
            guard let entry = allowedIP(text) else {
                throw WireGuardError(.invalidConfiguration, "allowed IP \"\(text)\" is not a canonical prefix")
            }
            return entry
        }
        let result = entries.withUnsafeBufferPointer { buffer in
            request.allowed_ips = buffer.baseAddress
            request.allowed_ip_count = UInt32(buffer.count)
            return CRiftLinux_wg_set_peer(name, &request)
        }
        try check(result, "set peer \(peer.publicKey) on \(name)")
    }

    /// Removes the peer `publicKey` (nothing happens for a peer the device does not have). Fails with netlink's errno.
    static func removePeer(on name: String, _ publicKey: PublicKey) throws(WireGuardError) {
        var request = CRiftLinux_wg_peer_change()
        withUnsafeMutableBytes(of: &request.public_key) { $0.copyBytes(from: publicKey.bytes) }
        request.remove = 1
        try check(CRiftLinux_wg_set_peer(name, &request), "remove peer \(publicKey) from \(name)")
    }

    /// Makes WireGuard send a keepalive to `publicKey` now and keep its persistent keepalive at `interval` seconds; a
    /// peer the device does not have is not created. Fails with the errno netlink gave.
    static func sendKeepalive(on name: String, to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        let result = publicKey.bytes.withUnsafeBufferPointer { key in
            CRiftLinux_wg_send_keepalive(name, key.baseAddress, max(interval, 1))
        }
        try check(result, "ask \(name) for a keepalive")
    }

    private static func check(_ result: Int32, _ action: String) throws(WireGuardError) {
        guard result != 0 else { return }
        throw WireGuardError(.commandFailed, "cannot \(action) over netlink: \(String(cString: strerror(-result)))",
                             errno: -result)
    }

    private static func key(_ bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> PublicKey? {
        let array = withUnsafeBytes(of: bytes) { Array($0) }
        return try? PublicKey(bytes: array)
    }

    /// The peer's endpoint (printed as `wg show dump` prints it); nil when there is none.
    private static func endpoint(_ peer: CRiftLinux_wg_peer) -> WireGuardEndpoint? {
        address(family: Int32(peer.endpoint_family), peer.endpoint_address).map { WireGuardEndpoint(host: $0, port: peer.endpoint_port) }
    }

    private static func prefix(_ allowed: CRiftLinux_wg_allowed_ip) -> String? {
        switch address(family: Int32(allowed.family), allowed.address) {
        case .ipv4(let address): "\(address)/\(allowed.cidr)"
        case .ipv6(let address): "\(address)/\(allowed.cidr)"
        case nil: nil
        }
    }

    private static func address(family: Int32, _ raw: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> WireGuardEndpoint.Host? {
        let bytes = withUnsafeBytes(of: raw) { Array($0) }
        switch family {
        case AF_INET: return .ipv4(IPv4Address(bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        case AF_INET6: return .ipv6(IPv6Address(bytes: bytes))
        default: return nil
        }
    }

    private static func bytes(of address: IPv4Address) -> [UInt8] {
        [UInt8(address.value >> 24), UInt8(address.value >> 16 & 0xFF), UInt8(address.value >> 8 & 0xFF), UInt8(address.value & 0xFF)]
    }

    /// A canonical prefix as netlink takes it; nil for anything else.
    private static func allowedIP(_ text: String) -> CRiftLinux_wg_allowed_ip? {
        var entry = CRiftLinux_wg_allowed_ip()
        if let prefix = IPv4Prefix(text) {
            entry.family = UInt8(AF_INET)
            entry.cidr = UInt8(prefix.length)
            withUnsafeMutableBytes(of: &entry.address) { $0.copyBytes(from: bytes(of: prefix.network)) }
        } else if let prefix = IPv6Prefix(text) {
            entry.family = UInt8(AF_INET6)
            entry.cidr = UInt8(prefix.length)
            withUnsafeMutableBytes(of: &entry.address) { $0.copyBytes(from: prefix.network.bytes) }
        } else {
            return nil
        }
        return entry
    }
}
