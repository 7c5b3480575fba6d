import Glibc
internal import RiftSupport

/// The `ip` commands for one interface, in our network namespace or in a named one.
///
/// Each command runs with `LC_ALL=C` so the error texts matched by `WireGuardError.command` are
/// stable, and is bounded by `Subprocess`'s timeout.
struct NetworkLink: Sendable {
    /// The interface name.
    let name: String
    /// The `ip netns` name, or nil for our own namespace.
    let netns: String?

    /// `command` run inside the namespace, for programs without a namespace option (`wg`, `wireguard-go`).
    func inNamespace(_ command: [String]) -> [String] {
        netns.map { ["ip", "netns", "exec", $0] + command } ?? command
    }

    /// Whether an interface of this name exists. Fails when `ip` cannot look (no such namespace,
    /// `ip` not installed).
    func exists() throws(WireGuardError) -> Bool {
        do {
            _ = try Self.run(ip(["link", "show", "dev", name]))
            return true
        } catch where error.standardError.contains("does not exist") {
            return false
        } catch {
            throw WireGuardError.command(error, "look up interface \(name)")
        }
    }

    /// The interface alias (`ip link set … alias`) that marks a kernel WireGuard interface as riftgate's own, so one an
    /// agent left behind can be told from an interface of the same name that someone else made.
    static let ownerAlias = "riftgate-agent"

    /// Creates a kernel WireGuard interface marked with `ownerAlias`. Fails with `.notInstalled` when the kernel has no
    /// WireGuard, `.interfaceExists` when the name is taken, `.missingCapability` without CAP_NET_ADMIN.
    func addKernelWireGuard() throws(WireGuardError) {
        do {
            _ = try Self.run(ip(["link", "add", "dev", name, "type", "wireguard"]))
        } catch {
            let text = error.standardError.lowercased()
            if text.contains("unknown device type") || text.contains("not supported") {
                throw WireGuardError(.notInstalled, "this kernel has no WireGuard support (Linux 5.6+ or the wireguard module)")
            }
            throw WireGuardError.command(error, "create interface \(name)")
        }
        do {
            _ = try Self.run(ip(["link", "set", "dev", name, "alias", Self.ownerAlias]))
        } catch {
            delete()
            throw WireGuardError.command(error, "mark interface \(name) as riftgate's")
        }
    }

    /// Whether the interface is a kernel WireGuard interface carrying `ownerAlias`: one an agent created. False when
    /// it is anything else or `ip` cannot tell.
    func isMarkedKernelWireGuard() -> Bool {
        guard let shown = try? Self.run(ip(["-details", "-json", "link", "show", "dev", name])) else { return false }
        let text = String(decoding: shown.standardOutput, as: UTF8.self)
        return text.contains("\"info_kind\":\"wireguard\"") && text.contains("\"ifalias\":\"\(Self.ownerAlias)\"")
    }

    /// Assigns both overlay addresses (whose prefixes give the overlay routes), sets the MTU and
    /// brings the interface up. Fails with the first command that fails.
    func configure(_ configuration: ValidatedConfiguration) throws(WireGuardError) {
        try runChecked(ip(["address", "add", configuration.ipv4Interface, "dev", name]),
                       "assign \(configuration.ipv4Interface) to \(name)")
        do {
            // NOARP interfaces skip duplicate address detection anyway; nodad makes it explicit.
            _ = try Self.run(ip(["-6", "address", "add", configuration.ipv6Interface, "dev", name, "nodad"]))
        } catch where error.standardError.contains("Permission denied") {
            throw WireGuardError(.commandFailed, "cannot assign \(configuration.ipv6Interface) to \(name): "
                                     + "IPv6 is disabled on this host (net.ipv6.conf.*.disable_ipv6)")
        } catch {
            throw WireGuardError.command(error, "assign \(configuration.ipv6Interface) to \(name)")
        }
        try runChecked(ip(["link", "set", "dev", name, "mtu", String(configuration.configuration.mtu), "up"]),
                       "bring up \(name)")
    }

    /// Deletes the interface and with it its addresses and routes; an absent interface is fine.
    func delete() {
        _ = try? Self.run(ip(["link", "delete", "dev", name]))
    }

    /// Runs `command` with a stable locale; used for `ip` and `wg`.
    static func run(_ command: [String], input: [UInt8] = []) throws(SubprocessError) -> SubprocessOutput {
        try Subprocess.run(command, input: input, environment: ["LC_ALL": "C"], timeout: .seconds(10))
    }

    private func runChecked(_ command: [String], _ action: String) throws(WireGuardError) {
        do { _ = try Self.run(command) } catch { throw WireGuardError.command(error, action) }
    }

    private func ip(_ arguments: [String]) -> [String] {
        ["ip"] + (netns.map { ["-n", $0] } ?? []) + arguments
    }
}

extension WireGuardError {
    /// Packages that provide the programs this module runs.
    static let packages = ["ip": "iproute2", "wg": "wireguard-tools", "wireguard-go": "wireguard-go", "setpriv": "util-linux"]

    /// Translates a failed `ip`/`wg` run into what the operator has to do about it.
    static func command(_ error: SubprocessError, _ action: String) -> WireGuardError {
        let text = error.standardError.lowercased()
        switch error.kind {
        case .notFound:
            let program = error.command.first ?? "a program"
            let package = packages[program].map { " (apt-get install \($0))" } ?? ""
            return WireGuardError(.notInstalled, "cannot \(action): \(program) is not installed\(package)")
        case .timedOut:
            return WireGuardError(.timedOut, "cannot \(action): \(error)")
        default:
            break
        }
        if text.contains("operation not permitted") {
            return WireGuardError(.missingCapability,
                                  "cannot \(action): needs CAP_NET_ADMIN (run as root or grant the capability)", errno: EPERM)
        }
        if text.contains("file exists") {
            return WireGuardError(.interfaceExists, "cannot \(action): the name or address is already in use", errno: EEXIST)
        }
        if text.contains("cannot open network namespace") {
            return WireGuardError(.invalidConfiguration, "cannot \(action): the network namespace does not exist")
        }
        return WireGuardError(.commandFailed, "cannot \(action): \(error)")
    }
}
