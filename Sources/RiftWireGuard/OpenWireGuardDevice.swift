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
///
/// A kernel interface outlives its process when the agent is killed or crashes (a wireguard-go interface goes with its
/// process), and the restarted agent could not create its own. Pass `removingLeftover` only when no agent of this
/// configuration can still be running (the control socket tells): an interface of this name that riftgate created
/// (kernel WireGuard marked with `NetworkLink.ownerAlias`) is then deleted, `removingLeftover` told its name, and the
/// device created in its place. Anything else of that name stays, and the call fails with `.interfaceExists`.
public func openWireGuardDevice(
    _ configuration: InterfaceConfiguration, backend: WireGuardBackend? = nil,
    removingLeftover: ((_ interfaceName: String) -> Void)? = nil
) throws(WireGuardError) -> any WireGuardDevice {
    let validated = try configuration.validated()
    let link = NetworkLink(name: configuration.name, netns: configuration.netns)
    if try link.exists() {
        guard let removingLeftover, link.isMarkedKernelWireGuard() else {
            throw WireGuardError(.interfaceExists, "an interface named \(configuration.name) already exists")
        }
        link.delete()
        if try link.exists() {
            throw WireGuardError(.interfaceExists, "an interface named \(configuration.name) was left by an agent and could not be deleted")
        }
        removingLeftover(configuration.name)
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
