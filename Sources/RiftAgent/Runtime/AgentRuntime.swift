import Dispatch
import Foundation
import Logging
import RiftCrypto
import RiftNice
import RiftProtocol
import RiftWireGuard
import Synchronization

/// `riftgate up`: joins the network and keeps one WireGuard peer per remote peer, over the path ICE selects.
///
/// One loop consumes a single ordered stream of events (hub, ICE, timer, signals) and feeds them to `Mesh`, then
/// performs the actions it returns. C objects live on their own threads (see docs/architecture.md); this loop only
/// calls their thread-safe entry points.
public final class AgentRuntime: @unchecked Sendable {
    let configuration: AgentConfiguration
    let secrets: AgentSecrets
    let logger: Logger
    let events: AsyncStream<RuntimeEvent>
    let post: AsyncStream<RuntimeEvent>.Continuation

    // Owned by the loop (touched only from `run`).
    var mesh: Mesh
    var device: WireGuardDevice?
    var iceLoop: ICEEventLoop?
    var forwarding: ForwardingLoop?
    var links: [UInt64: ICEPeerLink] = [:]
    var linkOfPeer: [PublicKey: UInt64] = [:]
    var iceServers = ICEServers()
    var hubState = "connecting"
    var hubError: String?
    let startedAt = ContinuousClock.now
    let hub: HubLink
    var control: ControlServer?
    let snapshot = Mutex<AgentStatus?>(nil)
    var exitError: AgentError?
    var lastDeviceStatus: WireGuardDeviceStatus?
    /// Controlled-side peers configured without keepalive; the next tick turns it on (see `configurePeer`).
    var deferredKeepalives: [PublicKey: WireGuardPeer] = [:]
    /// Roaming (see AgentRuntime+Underlay): the watcher, the underlay addresses last seen, and the resume detector.
    var underlay: UnderlayMonitor?
    var knownAddresses: Set<String> = []
    var resumeDetector = ResumeDetector()
    lazy var metricsTextfile = configuration.metricsTextfile.map { MetricsTextfile(path: $0) }

    /// Prepares the agent; nothing touches the system until `run()`.
    public init(configuration: AgentConfiguration, secrets: AgentSecrets, logger: Logger) {
        self.configuration = configuration
        self.secrets = secrets
        self.logger = logger
        (events, post) = AsyncStream.makeStream(of: RuntimeEvent.self, bufferingPolicy: .unbounded)
        mesh = Mesh(me: secrets.privateKey.publicKey, listenPort: configuration.listenPort, sessionID: {
            SecureRandom.bytes(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        })
        hub = HubLink(configuration: configuration, secrets: secrets, logger: logger)
    }

    /// Runs until `riftgate down`, SIGINT/SIGTERM, or a permanent refusal by the hub; always cleans up the
    /// interface, wireguard-go, forwarding sockets and the control socket. Throws the reason for a non-zero exit.
    public func run() async throws(AgentError) {
        try Privileges.requireNetworkAdministration(interface: configuration.interface)
        let signals = installSignalHandlers()
        defer { signals.forEach { $0.cancel() } }
        do {
            try start()
        } catch {
            shutdown()
            throw error
        }
        let hubTask = Task { [hub, post] in
            let pump = Task { for await event in hub.events { post.yield(.hub(event)) } }
            await hub.run()
            await pump.value
        }
        let ticker = Task { [post] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                post.yield(.tick)
            }
        }
        for await event in events {
            if case .stop(let reason) = event {
                logger.info("stopping: \(reason)")
                break
            }
            handle(event)
            if exitError != nil { break }
        }
        ticker.cancel()
        hub.stop()
        hubTask.cancel()
        shutdown()
        if let exitError { throw exitError }
    }

    private func start() throws(AgentError) {
        iceLoop = ICEEventLoop()
        forwarding = try ForwardingLoop()
        control = try ControlServer(
            path: configuration.controlSocket, group: configuration.controlGroup,
            status: { [weak self] in self?.snapshot.withLock { $0 } ?? AgentStatus.placeholder },
            onDown: { [post] in post.yield(.stop(reason: "riftgate down")) })
        startWatchingUnderlay()
        publishStatus()
        logger.info("riftgate \(configuration.name) (\(secrets.privateKey.publicKey)) joining \(configuration.network) at \(configuration.hub)")
    }

    private func installSignalHandlers() -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [post] in post.yield(.stop(reason: number == SIGINT ? "SIGINT" : "SIGTERM")) }
            source.resume()
            return source
        }
    }

    /// Tears everything down in reverse order. Safe to call more than once.
    func shutdown() {
        underlay?.shutdown()
        underlay = nil
        for link in links.values { link.close() }
        links.removeAll()
        forwarding?.shutdown()
        forwarding = nil
        device?.shutdown()
        device = nil
        control?.shutdown()
        control = nil
        iceLoop?.shutdown()
        iceLoop = nil
        post.finish()
        logger.info("stopped; interface \(configuration.interface) removed")
    }

    var nowMilliseconds: Int64 {
        let elapsed = ContinuousClock.now - startedAt
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
