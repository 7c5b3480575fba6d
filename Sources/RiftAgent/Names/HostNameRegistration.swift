import Logging
import RiftProtocol

/// Registers the network's names with the host, the strategy chosen once at start (`NameRegistrationMode`):
/// systemd-resolved (`ResolvedRegistrar`) or a block in the hosts file (`HostsFileRegistrar`), or nothing.
/// Fed by the hub's events like the inbound filter: welcome, peer_joined (a new peer, or a rename), peer_left;
/// `removeAll` at start (a crashed run's hosts block) and at shutdown. Never touches /etc/resolv.conf.
///
/// Used from the agent's event loop only. A failure (no right to write the hosts file, resolvectl refusing) is
/// logged at warning level once per distinct message and shown by `riftgate status`; the agent runs on without names,
/// and the next change tries again.
final class HostNameRegistration: HostNameRegistering, @unchecked Sendable {
    // @unchecked: used from the runtime thread only (AgentCore's confinement, see there); never shared further.
    /// Chosen at the first use, on the runtime thread: detecting systemd-resolved runs `resolvectl`, which must not
    /// block Swift's cooperative pool, where `AgentRuntime.run` builds the environment.
    private lazy var registrar: (any NameRegistrar)? = choose()
    private let choose: () -> (any NameRegistrar)?
    private let logger: Logger
    private var table = NameTable()
    private var lastError: String?
    private var registeredCount = 0

    init(logger: Logger, choose: @escaping () -> (any NameRegistrar)?) {
        self.choose = choose
        self.logger = logger
    }

    convenience init(registrar: (any NameRegistrar)?, logger: Logger) {
        self.init(logger: logger, choose: { registrar })
    }

    /// Picks the strategy for `mode`; for `auto`, systemd-resolved when `probe` says it serves the host.
    static func make(mode: NameRegistrationMode, interface: String, hostsFile: String, logger: Logger,
                     probe: ResolvedProbe = ResolvedProbe(), run: @escaping CommandRunner = systemCommandRunner) -> HostNameRegistration {
        HostNameRegistration(logger: logger) {
            switch mode {
            case .off: return nil
            case .hosts: return HostsFileRegistrar(path: hostsFile, interface: interface)
            case .resolved: return ResolvedRegistrar(interface: interface, run: run)
            case .auto:
                if let reason = probe.reasonUnusable(run: run) {
                    logger.info("names: using \(hostsFile): \(reason)")
                    return HostsFileRegistrar(path: hostsFile, interface: interface)
                }
                logger.info("names: using systemd-resolved")
                return ResolvedRegistrar(interface: interface, run: run)
            }
        }
    }

    func welcome(_ welcome: Welcome) {
        if table.welcome(welcome) || lastError != nil { apply() }
    }

    func joined(_ peer: PeerInfo) {
        if table.update(peer) { apply() }
    }

    func left(_ key: PublicKey) {
        if table.remove(key) { apply() }
    }

    func removeAll() {
        table.clear()
        guard let registrar else { return }
        do {
            try registrar.unregister()
            if registeredCount > 0 { logger.info("names: removed from \(registrar.hostsFile ?? "systemd-resolved")") }
            registeredCount = 0
            lastError = nil
        } catch {
            report(error)
        }
    }

    var status: AgentStatus.Names {
        AgentStatus.Names(domain: table.domain, registration: registrar?.kind ?? .off, hostsFile: registrar?.hostsFile,
                          lastError: lastError)
    }

    private func apply() {
        guard let registrar else { return }
        do {
            try registrar.register(table)
            let count = table.hostsLines.count / 2
            if let domain = table.domain, registeredCount == 0 || lastError != nil {
                let place = registrar.hostsFile.map { "\(count) name(s) in \($0)" }
                    ?? "systemd-resolved asks \(table.me?.ipv4.description ?? "-") for ~\(domain)"
                logger.info("names: \(domain) registered: \(place)")
            } else {
                logger.debug("names: \(count) name(s) registered")
            }
            registeredCount = table.domain == nil ? 0 : max(count, 1)
            lastError = nil
        } catch {
            report(error)
        }
    }

    private func report(_ error: AgentError) {
        let message = "\(error)"
        if message != lastError {
            let hint = registrar?.kind == .hosts && (message.contains("Permission denied") || message.contains("Read-only file system"))
                ? " (the agent must be able to write it: see \"Names\" in docs/self-hosting.md, or set names = \"off\")" : ""
            logger.warning("names are not registered: \(message)\(hint)")
        }
        lastError = message
    }
}
