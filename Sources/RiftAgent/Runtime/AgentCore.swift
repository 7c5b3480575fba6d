import Logging
import RiftCrypto
import RiftProtocol
import RiftWireGuard
import RiftSupport

/// The agent's runtime without its threads: one inbox of events (hub, ICE, timers, stop) fed to `Mesh`, whose actions
/// it performs through the effects of an `AgentEnvironment`.
///
/// `AgentRuntime` runs one on a thread of its own, where the effects may block (ICE hops onto its loop thread, `wg`
/// runs, name resolution); tests run several with fakes and drain them with `runReady()` on a manual clock.
public final class AgentCore: @unchecked Sendable {
    // @unchecked: everything but `inbox` and `snapshot` (which lock) is confined to one thread at a time: the runtime
    // thread, which receives the object before it starts and is the only one to touch it until it ends (or, in tests,
    // the test's own thread). Other threads only post to the inbox or read the snapshot.
    let configuration: AgentConfiguration
    let secrets: AgentSecrets
    let logger: Logger
    let environment: AgentEnvironment
    let inbox = EventInbox()
    let snapshot = Locked<AgentStatus?>(nil)
    /// The TURN servers of the latest `welcome`/`ice_servers`, for the control socket's `turn` request.
    let turnSnapshot = Locked<[TURNCredentialSet]>([])

    var mesh: Mesh
    var device: (any WireGuardDevice)?
    /// The peers the WireGuard device has, and how far each is configured: added when their first ICE session starts
    /// (`provisionWireGuardPeer`), pointed when a selected path sets their endpoint, removed with them.
    var wireGuardPeers: [PublicKey: WireGuardPeerStage] = [:]
    /// The endpoint of a controlled side's first path, set only with its deferred keepalive (`configurePeer`).
    var deferredEndpoints: [PublicKey: WireGuardEndpoint] = [:]
    var links: [UInt64: any ICELink] = [:]
    /// The loopback port of each ICE session's forwarding socket, bound on the mesh's `bindForwarding`.
    var forwardingPorts: [UInt64: UInt16] = [:]
    /// Forwarding sockets the mesh released (and ICE sessions it closed with them), kept a moment (`AgentCore+Linger`).
    var lingering: [UInt64: LingeringForwarding] = [:]
    /// The token of the latest linger, so a `lingerOver` for one that was replaced or cancelled is ignored.
    var lingerTokens: UInt64 = 0
    var iceServers = ICEServers() {
        didSet { turnSnapshot.withLock { [turn = iceServers.turn] in $0 = turn.map(TURNCredentialSet.init) } }
    }
    var hubState = AgentStatus.HubState.connecting
    var hubError: String?
    var lastDeviceStatus: WireGuardDeviceStatus?
    /// The subnet routes last given to WireGuard as extra allowed IPs, per peer (`refreshRoutedPeers`).
    var routeAllowedIPs: [PublicKey: [String]] = [:]
    /// Metrics for node_exporter, written from `publishStatus` (on the runtime thread), when configured.
    lazy var metricsTextfile = configuration.metricsTextfile.map { MetricsTextfile(path: $0) }
    /// Roaming (AgentCore+Underlay): the underlay addresses last seen, and the resume detector.
    var knownAddresses: Set<String> = []
    var resumeDetector = ResumeDetector()
    /// Why the agent must exit with an error (a permanent refusal, a device that cannot open).
    public private(set) var exitError: AgentError?
    /// Set once a stop was handled.
    public private(set) var stopReason: String?
    private var started = false

    /// How often liveness is checked: WireGuard's counters read for every peer (one UAPI `get` or `wg show dump`), so
    /// a quiet path is suspected within a quarter of a second of its deadline (`ReceiveWatch`).
    static let tickMilliseconds: Int64 = 250
    /// The status snapshot (and metrics textfile) is rebuilt every this many ticks (once a second), and at once after
    /// a tick that changed something.
    static let ticksPerStatus = 4
    /// Ticks since the status was last published by a tick.
    var ticksSinceStatus = 0

    /// Prepares the agent; nothing touches the world until `start()`.
    public init(configuration: AgentConfiguration, secrets: AgentSecrets, environment: AgentEnvironment, logger: Logger,
                sessionID: @escaping @Sendable () -> String = AgentCore.randomSessionID) {
        self.configuration = configuration
        self.secrets = secrets
        self.environment = environment
        self.logger = logger
        mesh = Mesh(me: secrets.privateKey.publicKey, listenPort: configuration.listenPort, sessionID: sessionID)
    }

    /// 96 random bits in hex.
    public static let randomSessionID: @Sendable () -> String = {
        SecureRandom.bytes(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The runtime's clock, in milliseconds.
    var now: Int64 { environment.clock.milliseconds() }

    /// Starts the hub session and the liveness timer.
    public func start() {
        guard !started else { return }
        started = true
        _ = resumeDetector.observe(ResumeDetector.bootClock())  // a stop before the first tick counts too
        knownAddresses = currentUnderlayAddresses()
        environment.portHandover.removeAll()  // rules a crashed run left behind
        environment.hostNames.removeAll()  // a hosts block a crashed run left behind
        environment.routes.removeAll()  // a routes table and exit-node rules a crashed run left behind
        environment.transport.start { [inbox] event in inbox.post(.hub(event)) }
        inbox.post(.tick, at: now + Self.tickMilliseconds)
        publishStatus()
    }

    /// Asks the runtime to stop (from any thread).
    public func requestStop(reason: String) { inbox.post(.stop(reason: reason)) }

    /// Whether the runtime is done: stopped, or failed for good.
    public var isFinished: Bool { stopReason != nil || exitError != nil }

    /// Handles every event ready now (posted ones, and timers due by the clock) until none is left or the runtime is
    /// finished. Returns how many it handled.
    @discardableResult
    public func runReady() -> Int {
        var count = 0
        while !isFinished, let event = inbox.take(now: now) {
            handle(event)
            count += 1
        }
        return count
    }

    /// Handles events as they come, blocking between them, until finished. For the runtime's own thread.
    func runUntilFinished() {
        while !isFinished {
            runReady()
            if !isFinished { inbox.waitForWork(clock: environment.clock) }
        }
    }

    /// The latest status snapshot (any thread).
    public var status: AgentStatus { snapshot.withLock { $0 } ?? .placeholder }

    /// The TURN servers and credentials the hub gave last (any thread).
    public var turnServers: [TURNCredentialSet] { turnSnapshot.withLock { $0 } }

    /// Tears everything down in reverse order. Safe to call more than once.
    public func shutdown() {
        environment.transport.stop()
        for (instance, link) in links {
            environment.forwarder.stopForwarding(instance: instance)
            link.close()
        }
        links.removeAll()
        for (instance, entry) in lingering {
            environment.forwarder.stopForwarding(instance: instance)
            entry.link?.close()
        }
        lingering.removeAll()
        forwardingPorts.removeAll()
        environment.forwarder.shutdown()
        environment.inboundFilter.removeAll()
        environment.routes.removeAll()
        environment.portHandover.removeAll()
        environment.hostNames.removeAll()  // before the device goes: resolvectl revert needs the link
        environment.names.stop()
        device?.shutdown()
        device = nil
        environment.ice.shutdown()
        inbox.close()
    }

    func fail(_ error: AgentError) { exitError = error }
    func stopped(_ reason: String) { stopReason = reason }
}

/// How far the agent has configured a peer in WireGuard.
enum WireGuardPeerStage: Equatable {
    /// Its public key alone, ahead of its first path: no allowed IPs, no endpoint, no keepalive.
    case added
    /// A selected path set its endpoint and allowed IPs.
    case pointed
}
