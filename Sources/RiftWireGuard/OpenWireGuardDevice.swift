/// Creates and configures the interface: kernel WireGuard when `ip link add type wireguard` works,
/// else wireguard-go.
///
/// With `backend` nil the kernel is tried first and wireguard-go used when the kernel (or `wg`) lacks
/// WireGuard; pass a backend to insist on one. The call blocks for at most a few seconds (wireguard-go
/// gets 5 s to open its socket). Fails with `.invalidConfiguration` for a bad name, key, prefix or
/// MTU; `.interfaceExists` when the name is taken (userspace names are also unique across network
/// namespaces, because their sockets share `/var/run/wireguard`); `.missingCapability` without
/// CAP_NET_ADMIN or root; `.notInstalled` naming the package when neither backend is available; and
/// otherwise with the failing command's or wireguard-go's own message. Nothing is left behind on failure.
public func openWireGuardDevice(
    _ configuration: InterfaceConfiguration, backend: WireGuardBackend? = nil
) throws(WireGuardError) -> any WireGuardDevice {
    let validated = try configuration.validated()
    let link = NetworkLink(name: configuration.name, netns: configuration.netns)
    if try link.exists() {
        throw WireGuardError(.interfaceExists, "an interface named \(configuration.name) already exists")
    }
    switch backend {
    case .kernel:
        return try KernelWireGuardDevice.open(validated, link: link)
    case .userspace:
        return try UserspaceWireGuardDevice.open(validated, link: link)
    case nil:
        do {
            return try KernelWireGuardDevice.open(validated, link: link)
        } catch where error.code == .notInstalled {
            do {
                return try UserspaceWireGuardDevice.open(validated, link: link)
            } catch where error.code == .notInstalled {
                throw WireGuardError(.notInstalled, "no WireGuard available: the kernel has no WireGuard module and \(error.reason)")
            }
        }
    }
}
