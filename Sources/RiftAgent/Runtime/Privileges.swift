import FoundationEssentials
import RiftSupport

/// Checks the capabilities the agent needs before it touches the network configuration.
enum Privileges {
    static let netAdmin = 12  // CAP_NET_ADMIN

    /// The effective capability mask of this process, from /proc/self/status.
    static func effectiveCapabilities() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingWhitespace(), radix: 16)
        }
        return nil
    }

    /// Fails with a message naming the missing capability and how to grant it.
    static func requireNetworkAdministration(interface: String) throws(AgentError) {
        guard let capabilities = effectiveCapabilities() else { return }  // not Linux /proc: let the system answer
        guard capabilities & (1 << UInt64(netAdmin)) == 0 else { return }
        throw AgentError.privilege("""
            riftgate needs CAP_NET_ADMIN to create and configure \(interface), and this process does not have it.
            Run it as root, or grant only that capability: in a systemd unit AmbientCapabilities=CAP_NET_ADMIN,
            or for a binary: setcap cap_net_admin+ep "$(command -v riftgate)"
            """)
    }
}
