import Glibc
internal import RiftSupport

/// Turns what wireguard-go printed before it exited into what the operator has to do.
enum WireGuardStartupFailure {
    /// The error for wireguard-go having exited with `status` after printing `output`.
    static func explain(output: String, status: ExitStatus) -> WireGuardError {
        let text = output.lowercased()
        let lastLines = output.split(separator: "\n").suffix(3).joined(separator: " / ")
        if text.contains("operation not permitted") {
            return WireGuardError(.missingCapability, "wireguard-go cannot create its interface: "
                                  + "needs CAP_NET_ADMIN (run as root or grant the capability)", errno: EPERM)
        }
        if text.contains("permission denied") {
            return WireGuardError(.missingCapability, "wireguard-go needs root, or CAP_NET_ADMIN and write access to "
                                  + "/var/run/wireguard: \(lastLines)", errno: EACCES)
        }
        if text.contains("/dev/net/tun") && text.contains("no such file") {
            return WireGuardError(.notInstalled, "the TUN driver is missing (/dev/net/tun): load the tun module, "
                                  + "or give the container /dev/net/tun", errno: ENOENT)
        }
        if text.contains("address already in use") || text.contains("resource busy") {
            return WireGuardError(.interfaceExists, "wireguard-go found its interface or socket in use: \(lastLines)", errno: EBUSY)
        }
        return WireGuardError(.processExited, "wireguard-go exited (\(status)): \(lastLines.isEmpty ? "no output" : lastLines)")
    }
}
