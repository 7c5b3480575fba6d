internal import CRiftLinux
import Glibc
import RiftProtocol

/// Talks to kernel WireGuard over generic netlink (`CRiftLinux_wg_get_device`, `CRiftLinux_wg_send_keepalive`): the
/// status `wg show dump` gives and an immediate keepalive, without spawning `wg`, which the agent's counter reads
/// (four a second) and keepalive requests (up to one a second per quiet peer) would otherwise do each time.
enum KernelWireGuardNetlink {
    /// The status of kernel WireGuard interface `name` in this network namespace; fails with the errno netlink gave
    /// (ENOENT or ENODEV: no such device or no WireGuard family; EPERM without CAP_NET_ADMIN).
    static func status(of name: String) throws(WireGuardError) -> WireGuardDeviceStatus {
        var device = CRiftLinux_wg_device()
        let result = CRiftLinux_wg_get_device(name, &device)
        guard result == 0 else {
            throw WireGuardError(.commandFailed, "cannot read \(name) over netlink: \(String(cString: strerror(-result)))",
                                 errno: -result)
        }
        defer { CRiftLinux_wg_device_free(&device) }
        var status = WireGuardDeviceStatus(listenPort: device.listen_port,
                                           publicKey: device.has_public_key != 0 ? key(device.public_key) : nil, peers: [])
        let allowed = UnsafeBufferPointer(start: device.allowed_ips, count: Int(device.allowed_ip_count))
        for peer in UnsafeBufferPointer(start: device.peers, count: Int(device.peer_count)) {
            guard let publicKey = key(peer.public_key) else { continue }
            let range = Int(peer.first_allowed_ip)..<Int(peer.first_allowed_ip + peer.allowed_ip_count)
            status.peers.append(WireGuardPeerStatus(
                publicKey: publicKey, endpoint: endpoint(peer),
                lastHandshake: peer.last_handshake_seconds == 0 ? nil : peer.last_handshake_seconds,
                rxBytes: peer.rx_bytes, txBytes: peer.tx_bytes,
                allowedIPs: allowed[range].compactMap(prefix),
                persistentKeepalive: peer.persistent_keepalive == 0 ? nil : peer.persistent_keepalive))
        }
        return status
    }

    /// Makes WireGuard send a keepalive to `publicKey` now and keep its persistent keepalive at `interval` seconds; a
    /// peer the device does not have is not created. Fails with the errno netlink gave.
    static func sendKeepalive(on name: String, to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        let result = publicKey.bytes.withUnsafeBufferPointer { key in
            CRiftLinux_wg_send_keepalive(name, key.baseAddress, max(interval, 1))
        }
        guard result == 0 else {
            throw WireGuardError(.commandFailed, "cannot ask \(name) for a keepalive over netlink: "
                                 + String(cString: strerror(-result)), errno: -result)
        }
    }

    private static func key(_ bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> PublicKey? {
        let array = withUnsafeBytes(of: bytes) { Array($0) }
        return try? PublicKey(bytes: array)
    }

    /// `1.2.3.4:51820` or `[2001:db8::1]:51820`, as `wg show dump` prints it; nil when there is none.
    private static func endpoint(_ peer: CRiftLinux_wg_peer) -> String? {
        guard let address = text(family: Int32(peer.endpoint_family), peer.endpoint_address) else { return nil }
        return peer.endpoint_family == UInt8(AF_INET6) ? "[\(address)]:\(peer.endpoint_port)" : "\(address):\(peer.endpoint_port)"
    }

    private static func prefix(_ allowed: CRiftLinux_wg_allowed_ip) -> String? {
        text(family: Int32(allowed.family), allowed.address).map { "\($0)/\(allowed.cidr)" }
    }

    private static func text(family: Int32, _ address: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> String? {
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = withUnsafeBytes(of: address) { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        return written == nil ? nil : String(cString: buffer)
    }
}
