import RiftProtocol
import RiftSupport

/// Runs one helper program to completion (`resolvectl …`), bounded by a timeout; throws when it cannot run or fails.
/// Tests pass a fake that records the argument lists.
typealias CommandRunner = @Sendable (_ command: [String]) throws -> Void

/// The real runner: `Subprocess` (posix_spawnp, no shell), 5 seconds at most.
let systemCommandRunner: CommandRunner = { command in _ = try Subprocess.run(command, timeout: .seconds(5)) }

/// One way of telling the host about the names (`HostNameRegistration` picks one at start).
protocol NameRegistrar: AnyObject {
    /// What `riftgate status` shows.
    var kind: NameRegistrationKind { get }
    /// The hosts file, for the hosts strategy.
    var hostsFile: String? { get }
    /// Makes the host see `table`'s names, replacing what it saw; an empty table (no domain) unregisters.
    func register(_ table: NameTable) throws(AgentError)
    /// Removes everything registered, including what a crashed run left where that can outlive it. Safe when nothing is.
    func unregister() throws(AgentError)
}

/// The hosts-file strategy: this interface's block in `path`, rewritten on every change.
final class HostsFileRegistrar: NameRegistrar {
    let kind = NameRegistrationKind.hosts
    let path: String
    let block: HostsBlock
    var hostsFile: String? { path }

    init(path: String, interface: String) {
        self.path = path
        self.block = HostsBlock(interface: interface)
    }

    func register(_ table: NameTable) throws(AgentError) {
        let lines = table.hostsLines
        try HostsFile.edit(path) { block.rewrite($0, lines: lines) }
    }

    func unregister() throws(AgentError) {
        try HostsFile.edit(path) { block.rewrite($0, lines: []) }
    }
}

/// The systemd-resolved strategy: the agent's resolver (on its own overlay IPv4 address, port 53) becomes the DNS
/// server of its WireGuard link, for the network's domain and the overlay prefixes' reverse zones only (`~domain`,
/// routing domains: split DNS), and the link is never the default route for other names. Peers joining or leaving change nothing here: the resolver answers for
/// them. Per-link settings go with the link, so a crashed run leaves nothing behind; `revert` undoes them on shutdown.
final class ResolvedRegistrar: NameRegistrar {
    let kind = NameRegistrationKind.resolved
    var hostsFile: String? { nil }
    let interface: String
    private let run: CommandRunner
    private var applied: (server: IPv4Address, domains: [String])?
    /// Whether a command may have changed the link since the last revert (set before running any: a half-done
    /// registration is reverted too).
    private var touched = false

    init(interface: String, run: @escaping CommandRunner) {
        self.interface = interface
        self.run = run
    }

    func register(_ table: NameTable) throws(AgentError) {
        guard let domain = table.domain, let me = table.me else { return try unregister() }
        let domains = ([domain] + table.reverseZones).map { "~" + $0 }
        if let applied, applied.server == me.ipv4, applied.domains == domains { return }
        applied = nil
        touched = true
        try resolvectl(["dns", interface, me.ipv4.description])
        try resolvectl(["domain", interface] + domains)
        applied = (me.ipv4, domains)
        // With only a routing domain resolved already keeps other names off the link; saying so explicitly also
        // covers configurations (or versions) that default it on. Older resolvectl without the verb: not fatal.
        try? resolvectl(["default-route", interface, "false"])
    }

    func unregister() throws(AgentError) {
        guard touched else { return }
        applied = nil
        touched = false
        try resolvectl(["revert", interface])
    }

    private func resolvectl(_ arguments: [String]) throws(AgentError) {
        do { try run(["resolvectl"] + arguments) } catch {
            let shown = arguments.count > 4 ? arguments.prefix(4) + ["…"] : arguments[...]
            throw AgentError.system("resolvectl \(shown.joined(separator: " ")) failed: \(error)")
        }
    }
}
