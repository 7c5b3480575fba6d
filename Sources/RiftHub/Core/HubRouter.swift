public import Logging
public import RiftCrypto
public import RiftProtocol

/// Settings of the routing core.
public struct HubRouterConfiguration: Sendable {
    /// The hub's long-term X25519 key, which agents prove possession against.
    public var hubKey: PrivateKey
    /// STUN and TURN servers handed to peers.
    public var ice: ICEServerPolicy
    /// The WebSocket ping interval, announced in `welcome`.
    public var heartbeatSeconds: Int64 = 20
    /// How long a connection may take to answer the challenge.
    public var helloTimeoutSeconds: Double = 10
    /// Sustained messages per second per connection.
    public var messagesPerSecond = Double(Limits.messagesPerSecond)
    /// Messages per connection allowed at once.
    public var messageBurst = Double(Limits.messageBurst)
    /// Rate-limited messages after which the connection is closed.
    public var droppedMessagesBeforeClose = 1000
    /// How often live sessions are rechecked even when the stored data did not change (token expiry).
    public var recheckSeconds: Double = 60
    /// How often connected peers' last-seen times are written.
    public var lastSeenFlushSeconds: Double = 60
    /// How long an ephemeral peer (admitted by an ephemeral token) may be gone before it is removed from its network.
    public var ephemeralGraceSeconds: Int64 = 300
    /// Failed authentications one address may make at once.
    public var authFailureBurst = 10
    /// Failed authentications one address may make per minute once its burst is spent.
    public var authFailuresPerMinute = 10
    /// This hub's id in a hub cluster (`<name>-<random>`); nil for the single hub, which then never returns a cluster
    /// action (`publish`).
    public var clusterHubID: String?

    /// Creates a configuration with the protocol's default limits.
    public init(hubKey: PrivateKey, ice: ICEServerPolicy) {
        self.hubKey = hubKey
        self.ice = ice
    }
}

/// The hub's routing core: authentication, presence and relay, as a state machine without I/O.
///
/// The transport feeds it events (a connection opened, a frame arrived, a connection closed, a timer
/// ticked) and performs the returned `HubAction`s in order. It touches storage only through
/// `HubDirectory` and time only through `HubClock`, so it is tested without sockets, and it has no locks:
/// its owner calls it from one thread (the WebSocket service thread) or under one lock.
///
/// Invariants that keep presence honest (earlier mesh hubs broke each of them: a replaced connection's cleanup
/// deleted its successor and announced a false departure; a client-supplied `from` was relayed as is):
/// - `index` maps (network, key) to the one authenticated connection holding that identity; an entry is
///   removed only by the connection it points at, so a replaced connection's cleanup cannot remove the
///   entry of the connection that replaced it.
/// - a session's end is announced (`peer_left`) exactly once, when it leaves the index; replaced sessions
///   are never announced as leaving because their identity is still present.
/// - the sender of a relayed message is always the key its connection proved, never a client field.
public struct HubRouter<Connection: Hashable & Sendable> {
    /// Counters and gauges for `/metrics`.
    public internal(set) var metrics = HubMetrics()
    let configuration: HubRouterConfiguration
    let hubPublicKey: PublicKey
    let directory: any HubDirectory
    let clock: any HubClock
    let logger: Logger
    var connections: [Connection: ConnectionRecord] = [:]
    /// Authenticated connections by network and key.
    var index: [String: [PublicKey: Connection]] = [:]
    var authLimiter: AuthFailureLimiter
    var joinLimiter = JoinRateLimiter()
    var lastChangeMarker: Int64?
    /// Failed change-marker polls since storage last answered (the database is down): logged once at the first, then
    /// at most every `storageOutageLogSeconds`, and once more when storage answers again.
    var storagePollFailures = 0
    var nextStorageOutageLog: Double = 0
    var nextRecheck: Double
    var nextLastSeenFlush: Double
    /// Connected peers whose last-seen time is still to be written in this flush round: written `lastSeenChunk` per
    /// tick, so that a round over 15,000 sessions never stalls the service thread (or holds PostgreSQL's write lock,
    /// which every hub of a cluster shares) for long.
    var lastSeenBacklog: [PeerAddress] = []
    var nextEphemeralSweep: Double
    /// Connections awaiting `hello`, by deadline (`tick` closes those still waiting when it passes).
    var helloDeadlines = DeadlineQueue<Connection>()
    /// Sessions whose TURN credentials are due for a refresh, by when (`tick` sends new ones).
    var turnRefreshes = DeadlineQueue<TURNRefresh<Connection>>()
    var isShuttingDown = false
    /// Connections refused at accept, for the log (HubRouter+Refusals.swift).
    var refusedConnections = RefusedConnectionLog()
    /// Access control of the networks with live sessions or remembered departures (HubRouter+Access.swift).
    var access: [String: NetworkAccess] = [:]
    /// The access of networks before a recent change, while departed peers may have missed it
    /// (HubRouter+MissedPolicyChanges.swift).
    var accessBeforeChange: [String: AccessBeforeChange] = [:]
    /// The change marker access control was last loaded at.
    var accessMarker: Int64?
    /// The change marker admin renames were last looked for at (HubRouter+Names.swift).
    var namesMarker: Int64?
    /// The highest admin rename revision read so far.
    var renameRevision: Int64 = 0
    /// The change marker active routes were last reread at (HubRouter+Routes.swift).
    var routesMarker: Int64?
    /// The change marker active exit nodes were last reread at (HubRouter+ExitNodes.swift).
    var exitNodesMarker: Int64?
    /// The cluster's sessions and liveness as this hub sees them; nil for the single hub (HubRouter+Cluster.swift).
    public internal(set) var cluster: ClusterState?
    /// Peers that left this hub lately with their access in place (HubRouter+Departures.swift).
    var departures: [PeerAddress: Departure] = [:]
    /// Keys whose access was withdrawn lately, by network, with when (HubRouter+RecentRevocations.swift).
    var recentRevocations: [String: [PublicKey: Double]] = [:]

    /// Creates a router with no connections.
    public init(configuration: HubRouterConfiguration, directory: any HubDirectory, clock: any HubClock, logger: Logger) {
        self.configuration = configuration
        self.hubPublicKey = configuration.hubKey.publicKey
        self.directory = directory
        self.clock = clock
        self.logger = logger
        self.authLimiter = AuthFailureLimiter(burst: configuration.authFailureBurst, perMinute: configuration.authFailuresPerMinute)
        let now = clock.monotonicSeconds()
        self.nextRecheck = now + configuration.recheckSeconds
        self.nextLastSeenFlush = now + configuration.lastSeenFlushSeconds
        self.nextEphemeralSweep = now
        self.lastChangeMarker = try? directory.changeMarker()
        self.accessMarker = lastChangeMarker
        self.namesMarker = lastChangeMarker
        self.routesMarker = lastChangeMarker
        self.exitNodesMarker = lastChangeMarker
        self.metrics.networks = (try? directory.networkCount()) ?? 0
        self.cluster = configuration.clusterHubID.map { ClusterState(hubID: $0) }
        rememberLastConnectedPeers()
    }

    /// The peers connected now in `network`, sorted by key: to this hub, and in a cluster to the other hubs.
    public func connectedPeers(in network: String) -> [PeerInfo] {
        var peers = (index[network] ?? [:]).values.compactMap { connection -> PeerInfo? in
            guard case .authenticated(let session)? = connections[connection]?.phase else { return nil }
            return session.info
        }
        if let cluster {
            let local = index[network] ?? [:]
            peers += cluster.remotePeers(in: network).filter { local[$0.publicKey] == nil }
        }
        return peers.sorted { $0.publicKey < $1.publicKey }
    }

    /// The connection holding `publicKey` in `network`, if any.
    public func connection(holding publicKey: PublicKey, in network: String) -> Connection? {
        index[network]?[publicKey]
    }

    /// A text frame arrived on `connection`: rate-limit it, decode it and handle it. A frame that does not
    /// decode is answered with an `error` carrying the decoder's code (and the message `id` when one could be
    /// read); the connection stays open unless the code says otherwise. Before `welcome` anything but a valid
    /// `hello` is `not_authenticated` and closes the connection (PROTOCOL.md §5), malformed frames included. Frames
    /// that follow a `hello` whose proof is being checked are held and handled after the verdict (`proofChecked`).
    public mutating func connection(_ connection: Connection, received text: String) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard !isShuttingDown, let slot = connections.index(forKey: connection) else { return actions }
        let now = clock.monotonicSeconds()
        switch connections.values[slot].admitMessage(now: now) {
        case .ignored: return actions
        case .admitted:
            if case .checkingProof = connections.values[slot].phase {
                holdWhileCheckingProof(text, from: connection, &actions)
                return actions
            }
        case .dropped:
            // Every dropped message is answered, with its `id` as `ref` when it had one, so that a sender knows which
            // message was lost (PROTOCOL.md §6.10). The replies are bounded: after `droppedMessagesBeforeClose` drops
            // the connection is closed, and the transport's outbound queue limit closes a client that does not read.
            guard let record = connections[connection] else { return actions }
            metrics.countRejected(.rateLimited)
            let notice = ProtocolError(.rateLimited, "more than \(Int(configuration.messagesPerSecond)) messages per second; message dropped")
            actions.append(.send(.error(ErrorFrame(notice, ref: Self.messageID(in: text))), to: connection))
            if record.droppedMessages >= configuration.droppedMessagesBeforeClose {
                logger.notice("closing flooding connection", metadata: ["connection": "\(connection)", "from": "\(record.remoteAddress)"])
                end(connection, announce: "disconnected", &actions)
                actions.append(.close(connection, code: HubCloseCode.policyViolation, reason: "rate limit exceeded"))
            }
            return actions
        }
        handle(text, from: connection, &actions)
        return actions
    }

    /// Decodes an admitted frame and handles it.
    mutating func handle(_ text: String, from connection: Connection, _ actions: inout [HubAction<Connection>]) {
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(text)
        } catch {
            if case .awaitingHello? = connections[connection]?.phase {
                let refusal = ProtocolError(.notAuthenticated, "send a valid hello first (\(error.code.rawValue): \(error.message))")
                refuse(connection, refusal, ref: Self.messageID(in: text), &actions)
            } else {
                refuse(connection, error, ref: Self.messageID(in: text), &actions)
            }
            return
        }
        switch message {
        case .hello(let hello): handleHello(hello, from: connection, &actions)
        case .iceServers(let request): handleICEServersRequest(request, from: connection, &actions)
        case .signal(let signal): relay(signal, from: connection, &actions)
        }
    }

    /// The transport refused a frame over the size limit and will close the connection: say why first.
    public mutating func connectionSentOversizedMessage(_ connection: Connection) -> [HubAction<Connection>] {
        guard connections[connection] != nil else { return [] }
        metrics.countRejected(.frameTooLarge)
        return [.send(.error(ErrorFrame(ProtocolError(.frameTooLarge, "frames are limited to \(Limits.maximumFrameBytes) bytes"))), to: connection)]
    }

    /// The transport is closing `connection` because it read too slowly; its departure follows with
    /// `connectionClosed`.
    public mutating func connectionFellBehind(_ connection: Connection) {
        metrics.slowConnectionsClosed += 1
        logger.notice("closing connection that reads too slowly", metadata: [
            "connection": "\(connection)", "from": "\(connections[connection]?.remoteAddress ?? "?")",
        ])
    }

    /// `connection` is gone. If it held an identity, the rest of its network learns that it left.
    public mutating func connectionClosed(_ connection: Connection, cause: DisconnectCause) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        guard let record = connections[connection] else { return actions }
        if case .authenticated = record.phase {
            end(connection, announce: cause == .heartbeatTimeout ? "timeout" : "disconnected", &actions)
        }
        connections[connection] = nil
        metrics.openConnections = connections.count
        logger.debug("connection closed", metadata: ["connection": "\(connection)", "cause": "\(cause)"])
        return actions
    }

    /// Answers a refused message with an error frame, counting it, and closes when the code requires it.
    mutating func refuse(_ connection: Connection, _ error: ProtocolError, ref: String? = nil, _ actions: inout [HubAction<Connection>]) {
        metrics.countRejected(error.code)
        actions.append(.send(.error(ErrorFrame(error, ref: ref)), to: connection))
        guard error.code.closesConnection else { return }
        end(connection, announce: "disconnected", &actions)
        actions.append(.close(connection, code: Self.closeCode(for: error.code), reason: error.code.rawValue))
    }

    /// Takes `connection` out of its network (announcing `reason` to the others if it was authenticated)
    /// and marks it as ending. Safe to call more than once.
    mutating func end(_ connection: Connection, announce reason: String, _ actions: inout [HubAction<Connection>]) {
        guard var record = connections[connection] else { return }
        if case .authenticated(let session) = record.phase {
            let network = record.grant.network
            let key = session.info.publicKey
            if index[network]?[key] == connection {
                index[network]?[key] = nil
                if index[network]?.isEmpty == true { index[network] = nil }
                announceLeave(key, reason: reason, in: network, except: connection, &actions)
                noteDeparture(key, in: network, tokenID: record.grant.tokenID, reason: reason)
                clusterSessionEnded(key, in: network, reason: reason, &actions)
                try? directory.recordLastSeen([PeerAddress(network: network, publicKey: key)], now: clock.unixSeconds())
                metrics.connectedPeers -= 1
                metrics.countSessionEnded(reason)
                logger.info("peer left", metadata: ["network": "\(network)", "peer": "\(key)", "reason": "\(reason)"])
            }
        }
        record.phase = .ending
        connections[connection] = record
    }

    /// Sends `message` to every authenticated connection of `network` except `excluded`.
    func broadcast(_ message: HubMessage, in network: String, except excluded: Connection?, _ actions: inout [HubAction<Connection>]) {
        for connection in (index[network] ?? [:]).values where connection != excluded {
            actions.append(.send(message, to: connection))
        }
    }

    static func closeCode(for code: ErrorCode) -> UInt16 {
        switch code {
        case .unauthorized: HubCloseCode.unauthorized
        case .unknownNetwork: HubCloseCode.networkGone
        case .proofFailed, .peerRevoked, .tokenExhausted: HubCloseCode.forbidden
        case .replaced: HubCloseCode.replaced
        case .networkFull, .rateLimited: HubCloseCode.tooMany
        case .shuttingDown: HubCloseCode.goingAway
        case .frameTooLarge: 1009
        case .internalError: HubCloseCode.internalError
        default: HubCloseCode.badSession
        }
    }

    /// The `id` of a frame that failed to decode, when it is a plausible id string, for the error's `ref`.
    static func messageID(in text: String) -> String? {
        guard text.utf8.count <= Limits.maximumFrameBytes, case .object(let fields)? = try? JSONParser.parse(text),
              case .string(let id)? = fields["id"], !id.isEmpty, id.utf8.count <= Limits.maximumMessageIDLength else { return nil }
        return id
    }
}
