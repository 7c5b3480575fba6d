import Logging
import RiftProtocol

extension HubRouter {
    /// The access control of `network`, loaded from the directory the first time and after every change.
    /// A policy that fails to parse (the admin CLI validates it, so only a hand-edited database) closes the
    /// network: nobody is introduced, which fails safe.
    mutating func networkAccess(_ network: String) -> NetworkAccess {
        if let cached = access[network] { return cached }
        let loaded = loadAccess(network) ?? .open
        access[network] = loaded
        return loaded
    }

    private func loadAccess(_ network: String) -> NetworkAccess? {
        do {
            let stored = try directory.storedAccessControl(network: network)
            guard let text = stored.policyText else { return NetworkAccess(policy: nil, tags: stored.tags) }
            do {
                return NetworkAccess(policy: try AccessPolicy(parsing: text), tags: stored.tags)
            } catch {
                logger.error("stored access policy does not parse; nobody is introduced", metadata: ["network": "\(network)", "error": "\(error)"])
                return NetworkAccess(policy: AccessPolicy(rules: []), tags: stored.tags)
            }
        } catch {
            logger.error("cannot load access policy", metadata: ["network": "\(network)", "error": "\(error)"])
            return nil
        }
    }

    /// What `recipient` (a session speaking `version`) is told about `peer`: nil when the policy keeps them apart.
    func introduction(of peer: PeerInfo, to recipient: PublicKey, version: Int64, _ access: NetworkAccess) -> PeerInfo? {
        guard access.introduces(peer.publicKey, recipient) else { return nil }
        var told = Self.described(peer, forVersion: version)
        told.allowIn = version >= ProtocolVersion.v2 ? access.decision(from: peer.publicKey, to: recipient).allowIn : nil
        return told
    }

    /// `peer` with only the fields a session speaking `version` may receive (`dns_name` from version 3 on, `routes`
    /// from version 4 on, `exit_node` from version 5 on).
    static func described(_ peer: PeerInfo, forVersion version: Int64) -> PeerInfo {
        var told = peer
        if version < ProtocolVersion.v3 { told.dnsName = nil }
        if version < ProtocolVersion.v4 || told.routes?.isEmpty == true { told.routes = nil }
        if version < ProtocolVersion.v5 || told.exitNode != true { told.exitNode = nil }
        return told
    }

    /// Everything `recipient` is told about the connected peers of `network`, keyed by peer; nil when the network has
    /// no policy.
    func introductions(for recipient: PublicKey, version: Int64, in network: String, _ access: NetworkAccess) -> [PublicKey: PeerInfo]? {
        guard access.policy != nil else { return nil }
        var result: [PublicKey: PeerInfo] = [:]
        for peer in connectedPeers(in: network) where peer.publicKey != recipient {
            if let told = introduction(of: peer, to: recipient, version: version, access) { result[peer.publicKey] = told }
        }
        return result
    }

    /// Announces a joined peer to the sessions of its network the policy introduces it to, each with its own
    /// `allow_in`, and records what each was told.
    /// `minimumVersion` leaves out the sessions of older versions (for a change only newer versions are told of).
    mutating func announceJoin(_ info: PeerInfo, in network: String, except excluded: Connection?,
                               minimumVersion: Int64 = ProtocolVersion.v1, _ actions: inout [HubAction<Connection>]) {
        let access = networkAccess(network)
        for (key, connection) in index[network] ?? [:] where connection != excluded {
            guard case .authenticated(var session)? = connections[connection]?.phase, session.version >= minimumVersion else { continue }
            guard let told = introduction(of: info, to: key, version: session.version, access) else { continue }
            if session.introduced != nil {
                session.introduced?[info.publicKey] = Introduction(allowIn: told.allowIn)
                connections[connection]?.phase = .authenticated(session)
            }
            actions.append(.send(.peerJoined(told), to: connection))
        }
    }

    /// Takes `connection`, the session holding `key` in `network`, out of the index and closes it as `replaced`, without
    /// announcing a departure: the identity stays present (a newer connection holds it, on this hub or another one).
    mutating func closeReplacedSession(_ connection: Connection, key: PublicKey, in network: String,
                                       _ actions: inout [HubAction<Connection>]) {
        index[network]?[key] = nil
        connections[connection]?.phase = .ending
        metrics.connectedPeers -= 1
        metrics.countSessionEnded("replaced")
        metrics.countRejected(.replaced)
        actions.append(.send(.error(ErrorFrame(ProtocolError(.replaced, "a newer connection with the same key replaced this one"))), to: connection))
        actions.append(.close(connection, code: HubCloseCode.replaced, reason: "replaced"))
    }

    /// Announces a departure to the sessions that were told about the peer.
    mutating func announceLeave(_ key: PublicKey, reason: String, in network: String, except excluded: Connection?,
                                _ actions: inout [HubAction<Connection>]) {
        if reason == "revoked" { noteRevocation(key, in: network) }
        for connection in (index[network] ?? [:]).values where connection != excluded {
            guard case .authenticated(var session)? = connections[connection]?.phase else { continue }
            if session.introduced != nil {
                guard session.introduced?.removeValue(forKey: key) != nil else { continue }
                connections[connection]?.phase = .authenticated(session)
            }
            actions.append(.send(.peerLeft(PeerLeft(publicKey: key, reason: reason)), to: connection))
        }
    }

    /// Rereads the policy and tags of every network with live sessions or departures when the stored data changed, and
    /// brings each session's view in line: peers it may no longer see leave with reason `policy`, peers it may now see
    /// (or whose `allow_in` changed) are announced with `peer_joined`. Called once per tick, so a change takes effect
    /// within about a second.
    mutating func refreshAccess(marker: Int64, _ actions: inout [HubAction<Connection>]) {
        guard marker != accessMarker else { return }
        accessMarker = marker
        // Networks whose peers all left keep theirs while departures are remembered: a change is still told to the
        // live sessions about the departed peers, and to the departed peers when they rejoin.
        let kept = Set(index.keys).union(networksWithDepartures)
        access = access.filter { kept.contains($0.key) }
        for network in kept.sorted() {
            guard let loaded = loadAccess(network) else { continue }
            let previous = access[network]
            access[network] = loaded
            guard previous != loaded else { continue }
            reconcile(network, loaded, &actions)
            if let previous {
                announceDepartedPolicyChanges(in: network, from: previous, to: loaded, &actions)
                rememberAccessBeforeChange(in: network, previous)
            }
        }
    }

    private mutating func reconcile(_ network: String, _ access: NetworkAccess, _ actions: inout [HubAction<Connection>]) {
        let everyone = connectedPeers(in: network)
        for (key, connection) in (index[network] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard case .authenticated(var session)? = connections[connection]?.phase else { continue }
            session.tags = access.tags[key] ?? []
            let before = session.introduced ?? Dictionary(uniqueKeysWithValues: everyone.filter { $0.publicKey != key }.map { ($0.publicKey, Introduction(allowIn: nil)) })
            let wanted = introductions(for: key, version: session.version, in: network, access)
            let after = wanted ?? Dictionary(uniqueKeysWithValues: everyone.filter { $0.publicKey != key }.map { ($0.publicKey, Self.described($0, forVersion: session.version)) })
            for gone in before.keys.sorted() where after[gone] == nil {
                actions.append(.send(.peerLeft(PeerLeft(publicKey: gone, reason: PeerLeft.policyReason)), to: connection))
            }
            for (peer, told) in after.sorted(by: { $0.key < $1.key }) where before[peer] != Introduction(allowIn: told.allowIn) {
                actions.append(.send(.peerJoined(told), to: connection))
            }
            session.introduced = wanted?.mapValues { Introduction(allowIn: $0.allowIn) }
            connections[connection]?.phase = .authenticated(session)
        }
        logger.info("access policy applied", metadata: ["network": "\(network)", "policy": "\(access.policy == nil ? "none" : "\(access.policy!.rules.count) rules")"])
    }
}

extension PeerLeft {
    /// The reason of a `peer_left` sent because the access policy no longer introduces the two peers.
    public static let policyReason = "policy"
}
