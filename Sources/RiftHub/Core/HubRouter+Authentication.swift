import Logging
import RiftCrypto
import RiftProtocol
import RiftSupport

extension HubRouter {
    /// A WebSocket upgrade was accepted: check the network and bearer token, then send the challenge.
    ///
    /// Any failure gets the same `unauthorized` answer whatever went wrong (bad path, no token, unknown
    /// network, wrong token), so that a client without a valid token learns nothing about which networks
    /// exist. The hub's log says exactly what happened; the auth-failure metric counts an unknown network and
    /// a wrong token under one label (`bad_token`), so that not even a leaked metrics page tells them apart.
    /// An address with too many recent failures still gets its token checked — a valid token always gets in (tokens
    /// are 256-bit: the limiter protects the hub's work, not a secret, and must not lock out everyone behind one CGNAT
    /// or office NAT) — but a wrong one is refused with `rate_limited` and 4429 instead of `unauthorized`.
    public mutating func connectionOpened(_ connection: Connection, request: ConnectionRequest) -> [HubAction<Connection>] {
        var actions: [HubAction<Connection>] = []
        let now = clock.monotonicSeconds()
        metrics.connectionsTotal += 1
        let remote = request.remoteAddress
        var record = ConnectionRecord(
            phase: .ending, grant: SessionGrant(network: "", tokenID: "", publicKey: nil), requestHost: request.host,
            remoteAddress: remote,
            bucket: TokenBucket(capacity: configuration.messageBurst, ratePerSecond: configuration.messagesPerSecond, now: now))
        connections[connection] = record
        metrics.openConnections = connections.count
        if isShuttingDown {
            refuse(connection, ProtocolError(.shuttingDown, "the hub is shutting down"), &actions)
            return actions
        }
        let throttled = !authLimiter.allows(remote, now: now)
        let grant: TokenGrant
        switch authenticate(request) {
        case .success(let found):
            grant = found
        case .failure(.rejected) where throttled:
            metrics.countAuthFailure("throttled")
            logger.notice("authentication refused: too many failures", metadata: ["from": "\(remote)"])
            metrics.countRejected(.rateLimited)
            actions.append(.send(.error(ErrorFrame(ProtocolError(.rateLimited, "too many failed attempts from this address; retry later"))), to: connection))
            actions.append(.close(connection, code: HubCloseCode.tooMany, reason: "rate_limited"))
            return actions
        case .failure(.rejected(let reason)):
            failAuthentication(connection, reason: reason, .unauthorized, "the bearer token is not valid for this network", &actions)
            return actions
        case .failure(.storage(let error)):
            failInternally(connection, error, &actions)
            return actions
        }
        let nonce = SecureRandom.bytes(Challenge.nonceBytes)
        record.grant = SessionGrant(network: grant.network, tokenID: grant.id, publicKey: nil)
        let helloDeadline = now + configuration.helloTimeoutSeconds
        record.phase = .awaitingHello(nonce: nonce, deadline: helloDeadline)
        connections[connection] = record
        helloDeadlines.schedule(connection, at: helloDeadline)
        logger.debug("connection authenticated by token", metadata: ["network": "\(grant.network)", "token": "\(grant.id)", "from": "\(remote)"])
        actions.append(.send(.challenge(Challenge(versions: ProtocolVersion.supported, hubKey: hubPublicKey, nonce: nonce)), to: connection))
        return actions
    }

    private enum AuthenticationFailure: Error {
        case rejected(String)
        case storage(DirectoryError)
    }

    /// Looks up the network and the token. Both lookups always run, so that an unknown network and a
    /// wrong token take the same work.
    private func authenticate(_ request: ConnectionRequest) -> Result<TokenGrant, AuthenticationFailure> {
        let networkName = ProtocolVersion.networkName(fromPath: request.path)
        guard let tokenHash = Self.bearerTokenHash(request.authorization) else {
            let reason = request.authorization == nil ? "missing_token" : "malformed_token"
            return .failure(.rejected(networkName == nil ? "bad_path" : reason))
        }
        do {
            let network = try networkName.flatMap { name throws(DirectoryError) in try directory.network(named: name) }
            let grant = try directory.liveToken(hash: tokenHash, now: clock.unixSeconds())
            guard networkName != nil else { return .failure(.rejected("bad_path")) }
            guard let network else { return .failure(.rejected("unknown_network")) }  // counted as bad_token
            guard let grant, grant.network == network.name else { return .failure(.rejected("bad_token")) }
            return .success(grant)
        } catch {
            return .failure(.storage(error))
        }
    }

    /// The hash of the token of an `Authorization: Bearer <token>` header, nil when absent or malformed. Only the hash
    /// is compared, so the token's secret bytes are not kept (`PresentedToken`: no guarded allocation per connection).
    static func bearerTokenHash(_ header: String?) -> TokenHash? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return try? PresentedToken.hash(of: String(parts[1].drop(while: { $0 == " " })))
    }

    /// The agent answered the challenge: check the version and hand the proof out for checking (`checkProof`). Its
    /// verdict comes back through `proofChecked`, which admits the key (`admitProven`); what the connection sends
    /// meanwhile is held and handled after it, in order (HubRouter+ProofChecks.swift).
    mutating func handleHello(_ hello: Hello, from connection: Connection, _ actions: inout [HubAction<Connection>]) {
        guard var record = connections[connection] else { return }
        guard case .awaitingHello(let nonce, let deadline) = record.phase else {
            refuse(connection, ProtocolError(.alreadyAuthenticated, "this connection already said hello"), ref: hello.id, &actions)
            return
        }
        guard ProtocolVersion.supported.contains(hello.version) else {
            failAuthentication(connection, reason: "unsupported_version", .unsupportedVersion,
                               "version \(hello.version) is not supported; this hub speaks \(ProtocolVersion.supported)", &actions)
            return
        }
        record.phase = .checkingProof(ProofWait(nonce: nonce, deadline: deadline, hello: hello))
        connections[connection] = record
        actions.append(.checkProof(ProofCheck(connection: connection, proof: hello.proof, challengeNonce: nonce,
                                              network: record.grant.network, agentKey: hello.publicKey)))
    }

    /// The hello's proof held: admit the key, replace an older connection with the same key, welcome the peer and
    /// announce it.
    mutating func admitProven(_ hello: Hello, from connection: Connection, _ actions: inout [HubAction<Connection>]) {
        guard var record = connections[connection] else { return }
        let network = record.grant.network
        let admission: PeerAdmission
        do {
            guard let settings = try directory.network(named: network) else {
                failAuthentication(connection, reason: "unknown_network", .unauthorized, "the bearer token is not valid for this network", &actions)
                return
            }
            switch joinLimiter.admit(key: hello.publicKey.base64, network: network, tokenID: record.grant.tokenID,
                                     maximumPeers: settings.maximumPeers, now: clock.monotonicSeconds()) {
            case .allowed: break
            case .keyTooFast:
                refuseJoin(connection, "this key joins too often; retry later", &actions)
                return
            case .tokenTooFast:
                refuseJoin(connection, "too many joins with this token; retry later", &actions)
                return
            }
            admission = try directory.admitPeer(publicKey: hello.publicKey, name: hello.name, network: settings,
                                                tokenID: record.grant.tokenID, now: clock.unixSeconds())
            record.grant.publicKey = hello.publicKey
            switch admission {
            case .revoked:
                failAuthentication(connection, reason: "peer_revoked", .peerRevoked, "this key was revoked in network \(network)", &actions)
            case .networkFull:
                failAuthentication(connection, reason: "network_full", .networkFull,
                                   "network \(network) already has its maximum of \(settings.maximumPeers) peers", &actions)
            case .tokenExhausted(let maximum):
                let keys = maximum == 1 ? "one key and has admitted another" : "\(maximum) keys and has admitted \(maximum) others"
                failAuthentication(connection, reason: "token_exhausted", .tokenExhausted,
                                   "this token admits only \(keys); ask the hub's administrator for a new token", &actions)
            case .admitted(var info):
                // What the agent advertises now replaces what it advertised before; a session of an older version
                // advertises nothing. Only approved routes and exit nodes are passed on.
                let routes = try directory.joiningPeerRoutes(network: network, publicKey: hello.publicKey,
                                                             advertised: hello.version >= ProtocolVersion.v4 ? hello.advertiseRoutes ?? [] : [])
                info.routes = routes.isEmpty ? nil : routes
                let exitNode = try directory.joiningPeerIsExitNode(network: network, publicKey: hello.publicKey,
                                                                   advertised: hello.version >= ProtocolVersion.v5 && hello.advertiseExitNode == true)
                info.exitNode = exitNode ? true : nil
                try join(connection, record: record, info: info, settings: settings, version: hello.version, &actions)
            }
        } catch {
            failInternally(connection, error, &actions)
        }
    }

    private mutating func join(_ connection: Connection, record: ConnectionRecord, info: PeerInfo, settings: NetworkSettings,
                               version: Int64, _ actions: inout [HubAction<Connection>]) throws(DirectoryError) {
        var record = record
        let network = settings.name
        let key = info.publicKey
        if let previous = index[network]?[key], previous != connection {
            closeReplacedSession(previous, key: key, in: network, &actions)
            logger.info("peer connection replaced", metadata: ["network": "\(network)", "peer": "\(key)"])
        }
        let now = clock.unixSeconds()
        let (ice, turnExpiry) = configuration.ice.servers(for: key, requestHost: record.requestHost, now: now)
        let tags = try directory.joiningPeerTags(network: network, publicKey: key, tokenID: record.grant.tokenID)
        var access = networkAccess(network)
        if access.tags[key] ?? [] != tags {
            access.tags[key] = tags.isEmpty ? nil : tags
            self.access[network] = access
        }
        let view = introductions(for: key, version: version, in: network, access)
        let others = view.map { Array($0.values).sorted { $0.publicKey < $1.publicKey } }
            ?? connectedPeers(in: network).filter { $0.publicKey != key }.map { Self.described($0, forVersion: version) }
        record.phase = .authenticated(PeerSession(info: info, turnExpiresAt: turnExpiry, version: version, tags: tags,
                                                  introduced: view?.mapValues { Introduction(allowIn: $0.allowIn) }))
        connections[connection] = record
        index[network, default: [:]][key] = connection
        forgetDeparture(key, in: network)
        forgetRevocation(key, in: network)
        if let turnExpiry { scheduleTURNRefresh(connection, expiresAt: turnExpiry, unixNow: now) }
        metrics.connectedPeers += 1
        // A welcome listing a large network would exceed the frame limit agents enforce: it lists the first
        // peers and the rest follow as peer_joined, which agents handle the same way.
        let listed = Array(others.prefix(Self.peersPerWelcome))
        actions.append(.send(.welcome(Welcome(
            version: version, network: network, me: Self.described(info, forVersion: version), ipv4Prefix: settings.ipv4Prefix,
            ipv6Prefix: settings.ipv6Prefix, peers: listed, ice: ice, heartbeatSeconds: configuration.heartbeatSeconds,
            dnsDomain: version >= ProtocolVersion.v3 ? settings.dnsDomain : nil)), to: connection))
        for peer in others.dropFirst(Self.peersPerWelcome) { actions.append(.send(.peerJoined(peer), to: connection)) }
        announceRecentRevocations(to: connection, recipient: key, in: network, &actions)
        announceMissedPolicyChanges(to: connection, recipient: key, in: network, &actions)
        // Announced also when it replaced a connection (PROTOCOL.md §5): a replacement usually means the agent
        // restarted and lost its ICE state, so the others must negotiate afresh — never a peer_left, though.
        announceJoin(info, in: network, except: connection, &actions)
        clusterSessionStarted(info, in: network, tokenID: record.grant.tokenID, &actions)
        logger.info("peer joined", metadata: [
            "network": "\(network)", "peer": "\(key)", "name": "\(info.name)", "ipv4": "\(info.ipv4)", "from": "\(record.remoteAddress)",
        ])
    }

    /// The most peers listed in one welcome: at most about 420 bytes each, so the welcome stays well
    /// under `Limits.maximumFrameBytes` (64 KiB).
    static var peersPerWelcome: Int { 100 }

    /// Refuses an authentication step: error frame, close, metric, log line, and a failure for the address.
    mutating func failAuthentication(_ connection: Connection, reason: String, _ code: ErrorCode, _ message: String,
                                     _ actions: inout [HubAction<Connection>]) {
        let remote = connections[connection]?.remoteAddress ?? "?"
        authLimiter.recordFailure(remote, now: clock.monotonicSeconds())
        metrics.countAuthFailure(Self.authFailureLabel(reason))
        logger.notice("authentication failed", metadata: ["reason": "\(reason)", "from": "\(remote)"])
        refuse(connection, ProtocolError(code, message), &actions)
    }

    /// A join over its rate: `rate_limited` and close 4429 (not permanent: the agent's backoff retries), no write.
    mutating func refuseJoin(_ connection: Connection, _ message: String, _ actions: inout [HubAction<Connection>]) {
        metrics.countRejected(.rateLimited)
        logger.notice("join refused: \(message)", metadata: ["from": "\(connections[connection]?.remoteAddress ?? "?")"])
        actions.append(.send(.error(ErrorFrame(ProtocolError(.rateLimited, message))), to: connection))
        end(connection, announce: "disconnected", &actions)
        actions.append(.close(connection, code: HubCloseCode.tooMany, reason: "rate_limited"))
    }

    /// The metric label of an authentication failure: the reason, except that an unknown network counts as a wrong
    /// token (PROTOCOL.md §3: a stranger must not learn which networks exist, from the answer or from a metric).
    static func authFailureLabel(_ reason: String) -> String { reason == "unknown_network" ? "bad_token" : reason }

    /// The directory failed: tell the client without details, log the reason, close.
    mutating func failInternally(_ connection: Connection, _ error: DirectoryError, _ actions: inout [HubAction<Connection>]) {
        logger.error("storage failure", metadata: ["error": "\(error)"])
        refuse(connection, ProtocolError(.internalError, "the hub could not reach its storage; retry later"), &actions)
        end(connection, announce: "disconnected", &actions)
        actions.append(.close(connection, code: HubCloseCode.internalError, reason: "internal_error"))
    }
}
