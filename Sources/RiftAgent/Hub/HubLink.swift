import Logging
import RiftCrypto
import RiftProtocol
import RiftSupport
import Synchronization
import RiftWebSocket

/// The agent's session with the hub: connect, prove possession of the key, then relay events, reconnecting with
/// capped, jittered backoff until stopped or refused for good. Given several hubs (one cluster), it moves to the next
/// one whenever its session is lost or an attempt fails, and backs off only after a full round (`HubRotation`).
///
/// Events arrive in order on `events`. A permanent refusal (revoked token or key, unknown network, unsupported version)
/// ends the stream with `.refused`; the agent then exits instead of retrying forever.
final class HubLink: SignalingTransport {
    typealias Event = SignalingEvent

    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let configuration: AgentConfiguration
    private let secrets: AgentSecrets
    private let logger: Logger
    private let current = Locked<WebSocketClient?>(nil)
    /// The WebSocket URL of the hub being connected to, or last connected to (shown by `riftgate status`).
    private let hubInUse: Locked<String?>
    private let stopped = Locked(false)
    private let sentSignals = Atomic<UInt64>(0)
    private let session = Locked<Task<Void, Never>?>(nil)
    /// Triggered by `reconnectNow`: ends the current connection (or the wait before the next attempt) at once.
    private let reconnect = Wakeup()
    private let welcomed = Atomic<Bool>(false)
    /// Whether the current connection's WebSocket opened (a failure before that moves to the host's next address).
    private let opened = Atomic<Bool>(false)
    /// Immediate reconnects allowed: a burst of 3, then one per 5 s; beyond that the ordinary backoff applies, so a
    /// flapping link cannot turn into a reconnect storm.
    private let immediateReconnects = Locked(TokenBucket(capacity: 3, ratePerSecond: 0.2, now: HubLink.seconds()))

    init(configuration: AgentConfiguration, secrets: AgentSecrets, logger: Logger) {
        self.configuration = configuration
        self.secrets = secrets
        self.logger = logger
        hubInUse = Locked(configuration.hubURLs.first)
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    /// Seals `payload` for its recipient and sends it; dropped (and logged) while the hub is unreachable.
    func send(_ payload: SignalPayload) {
        do {
            let sealed = try SignalSealer.seal(payload, sender: secrets.privateKey)
            // The id comes back as `ref` if the hub refuses the message (rate_limited, peer_not_found), naming what was
            // lost: kind, recipient, generation and a counter, at most 60 bytes.
            let number = sentSignals.add(1, ordering: .relaxed).newValue
            let id = "\(payload.kind.rawValue):\(payload.to.base64.prefix(8)):g\(payload.generation):\(number)"
            let message = ClientMessage.signal(OutgoingSignal(kind: payload.kind, to: payload.to, sealed: sealed, id: id))
            guard let client = current.withLock({ $0 }) else {
                logger.debug("hub unreachable; \(payload.kind.rawValue) for \(payload.to) not sent")
                return
            }
            client.send(message.encoded())
        } catch {
            logger.error("cannot seal \(payload.kind.rawValue) for \(payload.to): \(error)")
        }
    }

    /// Runs the session (`run()`) in a task and passes its events to `deliver`, in order.
    func start(deliver: @escaping @Sendable (SignalingEvent) -> Void) {
        let task = Task { [self] in
            let pump = Task { for await event in events { deliver(event) } }
            await run()
            await pump.value
        }
        session.withLock { $0 = task }
    }

    /// Stops reconnecting and closes the current connection.
    func stop() {
        stopped.withLock { $0 = true }
        current.withLock { $0 }?.close(code: 1000, reason: "agent stopping")
        session.withLock { $0 }?.cancel()
    }

    var currentHub: String? { hubInUse.withLock { $0 } }

    /// The local address the current hub connection leaves from, and the hub's address; nil while not connected.
    var endpoints: SocketEndpoints? { current.withLock { $0 }?.endpoints }

    func connectionLostToNetworkChange() -> String? {
        guard let endpoints else { return nil }
        if !RouteProbe.hostAddresses().contains(endpoints.localAddress) {
            return "the hub connection's address \(endpoints.localAddress) is gone"
        }
        let source = RouteProbe.sourceAddress(toward: endpoints.remoteAddress)
        if source != endpoints.localAddress {
            return "the route to the hub now leaves from \(source ?? "nowhere"), not \(endpoints.localAddress)"
        }
        return nil
    }

    /// Drops the current connection (or cuts the wait before the next attempt) and connects again at once: the network
    /// changed under it (its local address or route is gone) or the machine resumed. Rate-limited (see
    /// `immediateReconnects`); returns whether it acted.
    @discardableResult
    func reconnectNow(because reason: String) -> Bool {
        guard !stopped.withLock({ $0 }) else { return false }
        guard immediateReconnects.withLock({ $0.take(now: Self.seconds()) }) else {
            logger.info("\(reason); not reconnecting to the hub again so soon (the heartbeat and backoff still apply)")
            return false
        }
        logger.info("\(reason): reconnecting to the hub now")
        reconnect.trigger()
        return true
    }

    private static func seconds() -> Double {
        let elapsed = ContinuousClock.now - processStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private static let processStart = ContinuousClock.now

    /// Reconnect delays: from 0.25–0.5 s after the first loss, doubling to a step of 4 s, drawn from the upper half of
    /// the step. So an agent is back within about 5 s of the hub answering again, however long the outage was, while
    /// agents that lost the hub together spread their attempts over a 2 s window instead of arriving in one burst.
    /// (A dead hub costs each agent one connection attempt every 2–4 s; permanent refusals stop the loop instead.)
    static func reconnectBackoff() -> Backoff { Backoff(initialMilliseconds: 500, maximumMilliseconds: 4_000) }

    /// The most a switch to the next hub waits (drawn uniformly from 0): the agents of a killed hub all lose it at the
    /// same instant, and this spreads their arrival at the next one without costing a backoff step.
    static let switchJitterMilliseconds = 250

    /// Connects, and reconnects after every loss, until `stop()` or a permanent refusal.
    func run() async {
        var backoff = Self.reconnectBackoff()
        var rotation = HubRotation(hubs: configuration.hubURLs)
        var workingAddresses: [String: String] = [:]  // hub URL -> the address of its name that last opened
        defer { continuation.finish() }
        while !stopped.withLock({ $0 }) && !Task.isCancelled {
            reconnect.reset()
            welcomed.store(false, ordering: .relaxed)
            let outcome = await connect(to: rotation.current, workingAddresses: &workingAddresses)
            if welcomed.load(ordering: .relaxed) {
                backoff.reset()
                rotation.welcomed()
            }
            switch outcome {
            case .refused(let code, let message):
                // Final even with other hubs left to try: the members of a cluster share one state (networks, tokens,
                // revocations), so a token or key refused by one hub is refused by all of them.
                continuation.yield(.refused(code: code, message: message))
                return
            case .lost(let reason), .abandoned(let reason):
                if stopped.withLock({ $0 }) { return }
                if case .abandoned = outcome {
                    // The network changed under a working connection: the same hub, at once.
                    continuation.yield(.disconnected(reason: reason, retryInMilliseconds: 0))
                    continue
                }
                let lostHub = rotation.current
                let delay = switch rotation.failed() {
                case .none: Int.random(in: 0...Self.switchJitterMilliseconds)
                case .backoff: backoff.nextDelay()
                }
                if rotation.current == lostHub {
                    logger.warning("hub connection lost: \(reason); retrying in \(delay) ms")
                } else {
                    logger.warning("hub connection to \(lostHub) lost: \(reason); trying \(rotation.current) in \(delay) ms")
                }
                continuation.yield(.disconnected(reason: reason, retryInMilliseconds: delay))
                if await firstOf({ try? await Task.sleep(for: .milliseconds(delay)); return false }, { [reconnect] in await reconnect.wait(); return true }) {
                    continue  // reconnectNow cut the wait short
                }
            }
        }
    }

    private enum Outcome: Sendable { case lost(String), refused(String, String), abandoned(String) }

    /// Runs both and returns the result of the first to finish; the other is cancelled.
    private func firstOf<Result: Sendable>(_ one: @escaping @Sendable () async -> Result,
                                           _ other: @escaping @Sendable () async -> Result) async -> Result {
        await withTaskGroup(of: Result.self) { group in
            group.addTask(operation: one)
            group.addTask(operation: other)
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    /// One attempt on the hub at `hubURL`. When its name has several addresses they are tried in turn, from the one that
    /// last worked, until one opens; each refused or silent address costs one connect (refused at once, silent at
    /// the connect timeout) and no backoff.
    private func connect(to hubURL: String, workingAddresses: inout [String: String]) async -> Outcome {
        let addresses = await HubAddresses.resolve(hubURL)
        guard !addresses.isEmpty else { return await connectOnce(to: hubURL, address: nil) }
        var order = HubRotation(hubs: HubAddresses.ordered(addresses, startingAt: workingAddresses[hubURL]))
        while true {
            let address = order.current
            let outcome = await connectOnce(to: hubURL, address: address)
            if opened.load(ordering: .relaxed) {
                workingAddresses[hubURL] = address
                return outcome
            }
            guard case .lost(let reason) = outcome, order.failed() == .none, !stopped.withLock({ $0 }) else { return outcome }
            logger.warning("\(reason); trying the hub's next address, \(order.current)")
        }
    }

    /// One connection, until it is lost, refused, or abandoned by `reconnectNow` (then closed in the background
    /// while the next attempt starts: a connection whose address vanished may take its close timeout to end).
    private func connectOnce(to hubURL: String, address: String?) async -> Outcome {
        opened.store(false, ordering: .relaxed)
        var settings = WebSocketClientConfiguration(url: hubURL)
        settings.connectAddress = address
        settings.headers = [(name: "Authorization", value: "Bearer " + secrets.token.revealedText)]
        settings.caFile = configuration.caFile
        settings.subprotocol = ProtocolVersion.subprotocol
        settings.pingInterval = HubHeartbeat.agentDefault.pingInterval
        settings.pongTimeout = HubHeartbeat.agentDefault.pongTimeout
        let client: WebSocketClient
        do { client = try WebSocketClient(configuration: settings) } catch { return .refused("invalid_hub_url", "\(error)") }
        current.withLock { $0 = client }
        hubInUse.withLock { $0 = hubURL }
        defer { current.withLock { $0 = nil } }
        client.connect()
        // The token travels in a header, never in the URL.
        logger.info("connecting to \(hubURL)\(address.map { " at \($0)" } ?? "")")
        let outcome = await firstOf({ [self] in await consume(client) }, { [reconnect] in
            await reconnect.wait()
            return .abandoned("network changed")
        })
        if case .abandoned = outcome { client.close(code: 1001, reason: "network changed") }
        return outcome
    }

    private func consume(_ client: WebSocketClient) async -> Outcome {
        var refusal: (String, String)?
        for await event in client.events {
            switch event {
            case .connected:
                opened.store(true, ordering: .relaxed)
                logger.debug("WebSocket open; waiting for the challenge")
            case .text(let text):
                if let stop = handle(text, client: client) { refusal = stop }
            case .closed(let code, let reason):
                if let refusal { return .refused(refusal.0, refusal.1) }
                return .lost(code.map { "closed with \($0) \(reason)" } ?? reason)
            }
        }
        if Task.isCancelled { return .abandoned("network changed") }
        return refusal.map { .refused($0.0, $0.1) } ?? .lost("connection ended")
    }

    /// Handles one frame; returns a permanent refusal if the hub sent one.
    private func handle(_ text: String, client: WebSocketClient) -> (String, String)? {
        let message: HubMessage
        do { message = try HubMessage.decode(text) } catch {
            logger.error("undecodable frame from the hub: \(error)")
            return nil
        }
        switch message {
        case .challenge(let challenge):
            guard let version = ProtocolVersion.highestCommon(with: challenge.versions) else {
                client.close(code: 1002, reason: "no common protocol version")
                return ("unsupported_version", "the hub speaks versions \(challenge.versions), this agent speaks \(ProtocolVersion.supported)")
            }
            do {
                let proof = try PossessionProof.make(challenge: challenge, network: configuration.network, key: secrets.privateKey)
                // Advertised subnet routes exist from version 4 on (PROTOCOL.md §6.14); an older hub records none.
                let routes = version >= ProtocolVersion.v4 && !configuration.advertiseRoutes.isEmpty
                    ? configuration.advertiseRoutes : nil
                // Exit nodes exist from version 5 on (PROTOCOL.md §6.15); an older hub never approves one.
                let exitNode: Bool? = version >= ProtocolVersion.v5 && configuration.advertiseExitNode ? true : nil
                if configuration.advertiseExitNode, exitNode == nil {
                    logger.warning("the hub speaks protocol version \(version), before exit nodes (5): this machine is not offered as one")
                }
                let hello = Hello(version: version, publicKey: secrets.privateKey.publicKey, name: configuration.name, proof: proof,
                                  advertiseRoutes: routes, advertiseExitNode: exitNode)
                client.send(ClientMessage.hello(hello).encoded())
            } catch {
                logger.error("cannot build the proof of possession: \(error)")
                client.close(code: 1011, reason: "proof failed")
            }
        case .welcome(let welcome):
            welcomed.store(true, ordering: .relaxed)
            follow(welcome.heartbeatSeconds, on: client)
            logger.info("joined \(welcome.network) at \(currentHub ?? "the hub") as \(welcome.me.ipv4) / \(welcome.me.ipv6) with \(welcome.peers.count) other peer(s)")
            continuation.yield(.welcome(welcome))
        case .peerJoined(let peer): continuation.yield(.peerJoined(peer))
        case .peerLeft(let left): continuation.yield(.peerLeft(left))
        case .iceServers(let ice): continuation.yield(.iceServers(ice))
        case .signal(let signal):
            do {
                continuation.yield(.signal(try SignalSealer.open(signal, recipient: secrets.privateKey)))
            } catch {
                logger.warning("discarded a \(signal.kind.rawValue) from \(signal.from): \(error)")
            }
        case .error(let frame):
            if frame.knownCode?.isPermanent == true { return (frame.code, frame.message) }
            if frame.knownCode == .rateLimited, let ref = frame.ref {
                // PROTOCOL.md §6.10: the message is lost. Nothing is resent here: a lost description or candidate
                // makes the negotiation miss its deadline, and recovery starts a new ICE generation.
                logger.warning("the hub dropped signaling message \(ref) (rate_limited); the negotiation deadline will retry")
            } else {
                logger.warning("hub error \(frame.code): \(frame.message)\(frame.ref.map { " (about \($0))" } ?? "")")
            }
        }
        return nil
    }

    /// Pings the hub as often as it pings us, when that is more often than the agent's own heartbeat.
    private func follow(_ hubSeconds: Int64, on client: WebSocketClient) {
        let heartbeat = HubHeartbeat.following(hubSeconds: hubSeconds)
        guard heartbeat != .agentDefault else { return }
        do {
            try client.setHeartbeat(pingInterval: heartbeat.pingInterval, pongTimeout: heartbeat.pongTimeout)
            let timeout = heartbeat.pongTimeout
            logger.debug("the hub pings every \(hubSeconds) s: so does this agent; lost after \(timeout) unanswered")
        } catch {
            logger.warning("cannot follow the hub's \(hubSeconds) s heartbeat: \(error)")
        }
    }
}
