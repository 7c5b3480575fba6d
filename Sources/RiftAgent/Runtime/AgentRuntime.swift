import Dispatch
import FoundationEssentials
import Glibc
import Logging
import RiftCrypto
import RiftProtocol
import RiftSupport
import RiftWireGuard

/// `riftgate up`: joins the network and keeps one WireGuard peer per remote peer, over the path ICE selects.
///
/// An `AgentCore` with the real effects (the hub's WebSocket session, libnice, WireGuard, the forwarding thread) runs
/// on a thread of its own, `riftgate-runtime`, where those effects may block; Swift's cooperative pool only waits for
/// it to end. C objects live on their own threads (see docs/architecture.md).
public final class AgentRuntime: Sendable {
    let configuration: AgentConfiguration
    let secrets: AgentSecrets
    let logger: Logger

    /// Prepares the agent; nothing touches the system until `run()`.
    public init(configuration: AgentConfiguration, secrets: AgentSecrets, logger: Logger) {
        self.configuration = configuration
        self.secrets = secrets
        self.logger = logger
    }

    /// Runs until `riftgate down`, SIGINT/SIGTERM, or a permanent refusal by the hub; always cleans up the
    /// interface, wireguard-go, forwarding sockets and the control socket. Throws the reason for a non-zero exit.
    public func run() async throws(AgentError) {
        ProcessMemory.apply()
        try Privileges.requireNetworkAdministration(interface: configuration.interface)
        let forwarder = try SocketForwarder()
        let environment = AgentEnvironment(
            transport: HubLink(configuration: configuration, secrets: secrets, logger: logger),
            ice: NiceICELinkFactory(),
            openDevice: { [logger] settings throws(WireGuardError) in
                // The control socket is ours by now (ControlServer refuses to start beside a running agent), so an
                // interface of ours of this name is a killed agent's.
                try openWireGuardDevice(settings) { name in
                    logger.warning("removed interface \(name), left by an agent that did not stop cleanly")
                }
            },
            forwarder: forwarder, clock: SystemAgentClock(),
            localAddresses: { LocalAddresses.forICE(excludingInterface: $0, overlay: $1) },
            inboundFilter: InboundFilter(interface: configuration.interface, logger: logger),
            portHandover: HandoverTable(interface: configuration.interface, logger: logger),
            hostNames: HostNameRegistration.make(mode: configuration.namesWithoutResolver, interface: configuration.interface,
                                                 hostsFile: configuration.hostsFile, logger: logger),
            names: configuration.dns ? PeerNameResolver(logger: logger) : NoPeerNames(),
            routes: RouteInstaller(interface: configuration.interface, advertised: configuration.advertiseRoutes,
                                   acceptRoutes: configuration.acceptRoutes, masquerade: configuration.masquerade,
                                   advertiseExitNode: configuration.advertiseExitNode, exitNode: configuration.exitNode,
                                   underlayServers: { [hubs = configuration.hubs] welcome in
                                       ICEServerList.underlayServers(hubs: hubs, ice: welcome.ice)
                                   }, logger: logger),
            pathProbe: OverlayPathProbe())
        let core = AgentCore(configuration: configuration, secrets: secrets, environment: environment, logger: logger)
        let control: ControlServer
        do {
            control = try ControlServer(
                path: configuration.controlSocket, group: configuration.controlGroup, status: { core.status },
                onDown: { core.requestStop(reason: "riftgate down") }, turnServers: { core.turnServers })
        } catch {
            core.shutdown()
            throw error
        }
        let underlay = watchUnderlay { changes in core.inbox.post(.underlay(changes)) }
        let signals = Self.installSignalHandlers { core.requestStop(reason: $0) }
        defer { signals.forEach { $0.cancel() } }
        StartupPageRelease.schedule(logger: logger)
        logger.info("riftgate \(configuration.name) (\(secrets.privateKey.publicKey)) joining \(configuration.network) at \(configuration.hubs.joined(separator: ", "))")
        let finished: Void? = await withCheckedContinuation { (done: CheckedContinuation<Void?, Never>) in
            do {
                try JoinableThread.spawn(name: "riftgate-runtime") {
                    core.start()
                    core.runUntilFinished()
                    underlay?.shutdown()
                    core.shutdown()
                    control.shutdown()  // waits for the control thread: here, not on Swift's cooperative pool
                    done.resume(returning: ())
                }.detach()
            } catch {
                done.resume(returning: nil)
            }
        }
        guard finished != nil else {
            underlay?.shutdown()
            core.shutdown()
            control.shutdown()
            throw AgentError.system("cannot start the runtime thread")
        }
        logger.info("stopped; interface \(configuration.interface) removed")
        if let exitError = core.exitError { throw exitError }
    }

    /// Starts watching the host's network for the core (roaming); a host where rtnetlink cannot be watched still runs,
    /// recovering by timeouts only.
    private func watchUnderlay(_ deliver: @escaping @Sendable ([UnderlayChange]) -> Void) -> UnderlayMonitor? {
        let relevance = UnderlayRelevance(ownInterface: configuration.interface, overlay: nil,
                                          interfaceName: UnderlayRelevance.kernelInterfaceName, isIgnored: LocalAddresses.isIgnored)
        do {
            return try UnderlayMonitor(relevance: relevance, onChanges: deliver)
        } catch {
            logger.warning("\(error); network changes will be noticed by timeouts only")
            return nil
        }
    }

    private static func installSignalHandlers(_ stop: @escaping @Sendable (String) -> Void) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop(number == SIGINT ? "SIGINT" : "SIGTERM") }
            source.resume()
            return source
        }
    }
}
