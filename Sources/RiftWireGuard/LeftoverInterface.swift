/// Deletes the kernel WireGuard interface named in `configuration` when an agent left it behind: a kernel interface
/// outlives its process when the agent is killed or crashes (a wireguard-go interface goes with its process), and
/// the restarted agent could not create its own. Only an interface riftgate created (marked with
/// `NetworkLink.ownerAlias`) is deleted; anything else of that name stays, and `openWireGuardDevice` then fails with
/// `.interfaceExists`. The caller must know no agent of its configuration still runs (the control socket tells).
/// Returns whether an interface was deleted.
public func removeLeftoverWireGuardInterface(_ configuration: InterfaceConfiguration) -> Bool {
    let link = NetworkLink(name: configuration.name, netns: configuration.netns)
    guard (try? link.exists()) == true, link.isMarkedKernelWireGuard() else { return false }
    link.delete()
    return (try? link.exists()) == false
}
