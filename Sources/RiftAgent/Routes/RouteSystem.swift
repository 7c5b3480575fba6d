import FoundationEssentials
import RiftSupport

/// What `RouteInstaller` does to the host, behind one protocol so that tests record it: `ip` commands, the nftables
/// table, the forwarding sysctls and the list of this machine's own networks.
public protocol RouteSystem: Sendable {
    /// Runs `ip` with `arguments` (e.g. `["route", "replace", "192.168.1.0/24", "dev", "rg0"]`).
    func ip(_ arguments: [String]) throws
    /// Loads an nftables script (`NFTables.load` in the real program).
    func loadTable(_ script: String, name: String) throws
    /// Whether nftables is usable at all.
    var hasNFTables: Bool { get }
    /// A sysctl's value (e.g. `net.ipv4.ip_forward` → "1"); nil when unreadable.
    func sysctl(_ name: String) -> String?
    /// Sets a sysctl.
    func setSysctl(_ name: String, to value: String) throws
    /// The networks on this machine's other interfaces (not `interface`, loopback, link-local or tunnels).
    func localNetworks(excluding interface: String) -> [LocalNetwork]
}

/// The real host: `ip` and `nft` subprocesses, /proc/sys files, getifaddrs.
struct HostRouteSystem: RouteSystem {
    func ip(_ arguments: [String]) throws { _ = try Subprocess.run(["ip"] + arguments, timeout: .seconds(10)) }

    func loadTable(_ script: String, name: String) throws { try NFTables.load(script, tableName: name) }

    var hasNFTables: Bool { NFTables.isInstalled }

    func sysctl(_ name: String) -> String? {
        (try? String(contentsOfFile: Self.path(name), encoding: .utf8))?.trimmingWhitespaceAndNewlines()
    }

    func setSysctl(_ name: String, to value: String) throws {
        try (value + "\n").write(toFile: Self.path(name), atomically: false, encoding: .utf8)
    }

    func localNetworks(excluding interface: String) -> [LocalNetwork] {
        LocalAddresses.networks(excludingInterface: interface)
    }

    static func path(_ name: String) -> String { "/proc/sys/" + String(name.map { $0 == "." ? "/" : $0 }) }
}
