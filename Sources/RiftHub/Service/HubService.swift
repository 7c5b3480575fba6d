import Foundation
import Logging
import RiftCrypto
import RiftCluster
import RiftProtocol
import RiftSupport
import RiftWebSocket

/// A failure to start the hub, with a reason that names the file, address or setting involved.
public struct HubServiceError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var reason: String

    /// Creates an error.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// The running hub: WebSocket server, routing core, database, STUN responder and optional admin listener.
///
/// Threads: the WebSocket server's service thread runs the routing core and owns the database connection
/// (through the router); the proofs of possession are checked on a thread of their own (`ProofCheckWorker`); the STUN
/// responder, the admin listener and the TURN check have a thread each; `shutdown` may be called from any other thread
/// (the one waiting for SIGTERM).
public final class HubService: Sendable {
    private let handler: HubSocketHandler
    private let server: WebSocketServer
    private let admin: WebSocketServer?
    private let stun: STUNResponder?
    /// The second STUN port for `riftgate netcheck` (`stun_alt_port`), nil when not configured.
    private let stunAlternate: STUNResponder?
    /// The TURN credential check, nil without TURN (or with only `turns:`/TCP URIs).
    private let turnCheck: TURNCheck?
    private let logger: Logger
    private let configuration: HubConfiguration
    /// The hub cluster's NATS link; nil without `nats` (the single hub: no connection, no thread).
    private let cluster: ClusterLink?
    /// This start's cluster id (`<name>-<random>`), nil for the single hub.
    private let clusterHubID: String?
    /// The shared lock on the state directory while serving from SQLite (nil on PostgreSQL): keeps
    /// `riftgate-hub migrate` from copying a database that is still changing.
    private let servingLock: OwnedDescriptor?

    /// Prepares everything without listening yet: state directory, hub key, database, TURN secret.
    /// `frameStreamWatcher` (nil: none) checks that clients of the public listener mask their frames and counts their
    /// control frames.
    /// Fails with a reason naming what could not be set up.
    public init(configuration: HubConfiguration, logger: Logger,
                frameStreamWatcher: (any FrameStreamWatcher)? = nil) throws(HubServiceError) {
        self.configuration = configuration
        self.logger = logger
        let state = StateDirectory(path: configuration.stateDirectory)
        let hubKey: PrivateKeyAndOrigin
        do {
            try state.prepare()
            hubKey = try state.loadOrCreateHubKey()
            servingLock = configuration.usesPostgres ? nil : try state.lock(.serving)
        } catch {
            throw HubServiceError(error.reason)
        }
        if hubKey.created { logger.notice("created hub key", metadata: ["path": "\(state.hubKeyPath)", "public_key": "\(hubKey.key.publicKey)"]) }
        let database: HubDatabase
        do {
            database = try HubDatabase(location: configuration.databasePath)
        } catch {
            // PostgreSQL's reason names the server already (without its password).
            throw HubServiceError(configuration.usesPostgres ? error.reason : "cannot open database \(configuration.databasePath): \(error.reason)")
        }
        if let stunPort = configuration.stunPort {
            do {
                stun = try STUNResponder(host: configuration.stunHost ?? configuration.listen.host, port: stunPort)
            } catch {
                throw HubServiceError("\(error.reason) (use --stun-port or --no-stun)")
            }
        } else {
            stun = nil
        }
        do {
            stunAlternate = try configuration.stunAltPort.map { port throws(STUNResponderError) in
                try STUNResponder(host: configuration.stunHost ?? configuration.listen.host, port: port)
            }
        } catch {
            throw HubServiceError("\(error.reason) (stun_alt_port)")
        }
        // Bound first, so that an ephemeral STUN port (0) is announced as the port actually in use.
        var ice = try Self.icePolicy(configuration, logger: logger)
        ice.stunPort = stun?.boundPort
        var routerConfiguration = HubRouterConfiguration(hubKey: hubKey.key, ice: ice)
        routerConfiguration.heartbeatSeconds = configuration.pingInterval
        routerConfiguration.ephemeralGraceSeconds = configuration.ephemeralGrace
        let clusterBus = try Self.clusterBusConfiguration(configuration)
        routerConfiguration.clusterHubID = clusterBus?.name
        clusterHubID = clusterBus?.name
        // The writes of one service-loop pass share one commit (the join storm's cost was a transaction per join); the
        // handler sends what depends on them only after it (HubSocketHandler, HeldActions).
        database.batchWrites()
        let router = HubRouter<ConnectionID>(configuration: routerConfiguration, directory: database, clock: SystemHubClock(), logger: logger)
        turnCheck = ice.turnSecret.flatMap { secret in
            TURNCheck(urls: ice.turnURLs, secret: secret, interval: Double(configuration.turnCheckInterval), logger: logger)
        }
        let handler = HubSocketHandler(router: router, trustedProxies: configuration.trustedProxies, turnCheck: turnCheck,
                                       logger: logger)
        self.handler = handler
        cluster = clusterBus.map { bus in
            let link = ClusterLink(configuration: bus, hubID: bus.name, logger: logger) { [weak handler] event in handler?.clusterEvent(event) }
            handler.attach(link)
            return link
        }
        do {
            var serverConfiguration = Self.serverConfiguration(configuration)
            serverConfiguration.frameStreamWatcher = frameStreamWatcher
            server = try WebSocketServer(configuration: serverConfiguration, handler: handler)
            handler.attach(server)
            if let adminListen = configuration.adminListen {
                var adminConfiguration = WebSocketServer.Configuration()
                adminConfiguration.host = adminListen.host
                adminConfiguration.port = adminListen.port
                adminConfiguration.maximumMessageBytes = 1024
                let adminHandler = AdminHTTPHandler(hub: handler)
                let adminServer = try WebSocketServer(configuration: adminConfiguration, handler: adminHandler)
                adminHandler.attach(adminServer)
                admin = adminServer
            } else {
                admin = nil
            }
        } catch {
            throw HubServiceError(error.description)
        }
    }

    /// Starts listening. Fails when an address is taken or the TLS files cannot be used.
    public func start() throws(HubServiceError) {
        do {
            try server.start()
            try admin?.start()
        } catch {
            server.shutdown(timeout: .milliseconds(100))
            throw HubServiceError(error.description)
        }
        do {
            try handler.startProofChecks()
            try stun?.start()
            try stunAlternate?.start()
            try turnCheck?.start()
            try cluster?.start()
        } catch {
            handler.stopProofChecks()
            stun?.stop()
            stunAlternate?.stop()
            server.shutdown(timeout: .milliseconds(100))
            throw HubServiceError("cannot start the proof-check, STUN or TURN check thread: \(error)")
        }
        let scheme = configuration.tlsCertificate == nil ? "ws" : "wss"
        logger.notice("riftgate-hub listening", metadata: [
            "url": "\(scheme)://\(ListenAddress(host: configuration.listen.host, port: server.boundPort))\(ProtocolVersion.pathPrefix)<network>",
            "stun_port": "\(stun.map { "\($0.boundPort)" } ?? "off")",
            "admin": "\(admin.map { "\(ListenAddress(host: configuration.adminListen?.host, port: $0.boundPort))" } ?? "off")",
            "database": "\(configuration.databaseDescription)",
            "cluster": "\(clusterHubID ?? "off")",
        ])
        if handler.networkCount == 0 {
            logger.notice("no networks yet; create one with: riftgate-hub network create NAME, then riftgate-hub token create NAME --label DEVICE")
        }
        if configuration.tlsCertificate == nil {
            logger.warning("serving plain ws:// without TLS; put the hub behind a TLS proxy or pass --tls-cert and --tls-key")
        }
    }

    /// The WebSocket port in use (useful when port 0 was asked for).
    public var boundPort: UInt16 { server.boundPort }
    /// The STUN port in use, or nil when STUN is off.
    public var stunPort: UInt16? { stun?.boundPort }

    /// Graceful shutdown: every peer is told `shutting_down` and closed with 1001, queues are flushed
    /// (bounded by two seconds), threads are joined and the database is left consistent. Idempotent.
    public func shutdown() {
        logger.notice("shutting down")
        handler.beginShutdown()
        server.shutdown(code: HubCloseCode.goingAway, reason: "hub shutting down", timeout: .seconds(2))
        admin?.shutdown(timeout: .milliseconds(200))
        handler.stopProofChecks()
        stun?.stop()
        stunAlternate?.stop()
        turnCheck?.stop()
        cluster?.stop()
        logger.notice("stopped")
    }

    /// The bus settings for `nats` (nil when empty), with this start's hub id as the connection name. libnats' shared
    /// delivery threads: the hub subscribes once per connected peer.
    private static func clusterBusConfiguration(_ configuration: HubConfiguration) throws(HubServiceError) -> ClusterBusConfiguration? {
        guard !configuration.natsServers.isEmpty else { return nil }
        let servers: ServerList
        do {
            servers = try ServerList(configuration.natsServers)
        } catch {
            throw HubServiceError("nats: \(error.reason)")
        }
        let hubID = ClusterIdentity.incarnation(of: configuration.hubID ?? ClusterIdentity.defaultName())
        var bus = ClusterBusConfiguration(servers: servers, name: hubID)
        bus.sharesDeliveryThreads = true
        // A NATS node that vanishes without resetting its sockets (frozen VM, partition) must be noticed well before
        // the other hubs declare this one dead (5 s without its heartbeat): pings every second, 2 outstanding, leave
        // it after about 3 s instead of the bus' default 15 s (measured: 13-16 s of lost cross-hub signals and false
        // `peer_left` for every remote peer; docs/scaling.md). One small ping a second per hub costs nothing.
        bus.pingInterval = .seconds(1)
        bus.maximumPingsOutstanding = 2
        bus.caFile = configuration.natsCAFile
        bus.credentialsFile = configuration.natsCredentialsFile
        return bus
    }

    private typealias PrivateKeyAndOrigin = (key: PrivateKey, created: Bool)

    /// Connections one client address may have waiting for their WebSocket upgrade. A valid agent spends a round
    /// trip or three there, so hundreds of agents behind one NAT reconnecting together stay under it, while one host
    /// can no longer hold the hub's descriptors with connections that send nothing.
    static let pendingConnectionsPerAddress = 256

    private static func serverConfiguration(_ configuration: HubConfiguration) -> WebSocketServer.Configuration {
        var server = WebSocketServer.Configuration()
        server.host = configuration.listen.host
        server.port = configuration.listen.port
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            server.tls = TLSFiles(certificatePath: certificate, privateKeyPath: key)
        }
        server.subprotocol = ProtocolVersion.subprotocol
        server.maximumMessageBytes = Limits.maximumFrameBytes
        // A peer may relay a whole burst to one recipient at once; its queue must hold it.
        server.maximumQueuedMessagesPerConnection = 2 * Limits.messageBurst + 64
        server.maximumQueuedBytesPerConnection = 2 << 20
        // A client address may have 256 connections waiting for their upgrade (AcceptGuard); a trusted proxy carries
        // everyone's and is not limited, nor is loopback.
        server.maximumPendingConnectionsPerAddress = Self.pendingConnectionsPerAddress
        server.pendingLimitExemptAddresses = configuration.trustedProxies
        server.pingInterval = .seconds(configuration.pingInterval)
        server.pongTimeout = .seconds(configuration.pongTimeout)
        // The router's tick: changes made by the admin CLI (revocations, policies, renames) reach live sessions within
        // 250 ms plus the work itself; hello deadlines and TURN refreshes touch only the connections due (HubRouter.tick).
        server.tickInterval = .milliseconds(250)
        // One network cannot starve the others: the path is /v1/networks/<name>, so each network (a bucket of them) may
        // hand the router at most 2 events and start at most 4 writes per service-loop pass, and a join/leave storm with
        // its presence fan-out in a 200-peer network no longer delays another network's relayed frame by everything it
        // queued (docs/performance.md, "Fairness between networks").
        server.eventsPerGroupPerPass = 2
        server.writesPerGroupPerPass = 4
        // Pass and wait histograms on /metrics and the slow passes on /service-passes (admin listener): four clock
        // reads and one uncontended lock per pass (docs/performance.md, "Where the tail at 20,000 msg/s comes from").
        server.recordsServicePasses = true
        return server
    }

    private static func icePolicy(_ configuration: HubConfiguration, logger: Logger) throws(HubServiceError) -> ICEServerPolicy {
        var policy = ICEServerPolicy(stunPort: configuration.stunPort, publicHost: configuration.publicHost,
                                     turnURLs: configuration.turnURLs, turnLifetime: configuration.turnTTL)
        guard let path = configuration.turnSecretFile else { return policy }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HubServiceError("cannot read TURN secret file \(path)")
        }
        guard let secret = TURNSecret(String(decoding: data, as: UTF8.self)) else {
            throw HubServiceError("TURN secret file \(path) is empty")
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            logger.warning("TURN secret file is readable by other users; chmod 600 it", metadata: ["path": "\(path)"])
        }
        policy.turnSecret = secret
        return policy
    }
}
