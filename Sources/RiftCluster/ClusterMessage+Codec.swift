import RiftProtocol

extension ClusterMessage {
    /// The largest encoded message accepted (NATS' default `max_payload`).
    public static let maximumBytes = 1 << 20
    /// The longest hub id.
    public static let maximumHubIDLength = 64
    /// The longest session id (`<hub id>/<counter>`).
    public static let maximumSessionLength = 96

    /// The `type` of every message.
    static let types: Set<String> = [
        "signal", "session_claimed", "session_ended", "hub_alive", "sessions_snapshot", "sessions_request",
    ]

    /// The message as sent on the bus: one JSON object in UTF-8.
    public var encoded: [UInt8] { Array(JSONWriter.string(json).utf8) }

    /// Decodes one message from the bus, failing with the protocol's error codes (`malformed_json`, `unknown_type`,
    /// `missing_field`, `wrong_type`, `invalid_value`, `frame_too_large`, ...). Fields it does not know are ignored, in
    /// the message and in a session it describes, so that a field a later hub adds can be rolled out one hub at a time;
    /// every field it knows is checked as strictly as ever (a peer description, `PeerInfo`, as strictly as from a hub).
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> ClusterMessage {
        guard bytes.count <= maximumBytes else {
            throw ProtocolError(.frameTooLarge, "cluster message of \(bytes.count) bytes exceeds \(maximumBytes)")
        }
        var reader = try ObjectReader(try JSONParser.parse(bytes), context: "cluster message")
        let type = try reader.string("type", maxLength: 64)
        guard types.contains(type) else { throw ProtocolError(.unknownType, "unknown cluster message type \"\(type)\"") }
        let hub = try reader.string("hub", maxLength: maximumHubIDLength)
        try checkHubID(hub)
        let sequence = try reader.integer("seq", in: 1...Int64.max)
        let body: Body
        switch type {
        case "signal":
            let network = try readNetwork(&reader)
            let to = try reader.publicKey("to")
            guard let kind = SignalKind(rawValue: try reader.string("kind", maxLength: 32)) else {
                throw ProtocolError(.invalidValue, "cluster message.kind is not a signal kind")
            }
            let from = try reader.publicKey("from")
            let sealed = try SealedBox.read(&reader, "sealed")
            var forwarded = false
            if reader.optionalValue("forwarded") != nil {
                guard case .bool(let flag) = try reader.value("forwarded") else {
                    throw ProtocolError(.wrongType, "cluster message.forwarded must be a boolean")
                }
                forwarded = flag
            }
            body = .signal(ClusterSignal(network: network, to: to, signal: RelayedSignal(kind: kind, from: from, sealed: sealed),
                                         forwarded: forwarded))
        case "session_claimed":
            body = .sessionClaimed(try readSession(&reader))
        case "session_ended":
            let network = try readNetwork(&reader)
            let key = try reader.publicKey("key")
            let session = try readSessionID(&reader)
            guard let reason = SessionEnd.Reason(rawValue: try reader.string("reason", maxLength: 32)) else {
                throw ProtocolError(.invalidValue, "cluster message.reason is not disconnected, timeout or revoked")
            }
            body = .sessionEnded(SessionEnd(network: network, key: key, session: session, reason: reason))
        case "hub_alive":
            body = .hubAlive(HubAlive(
                broadcastSequence: try reader.integer("broadcast_seq", in: 0...Int64.max),
                sessionCount: try reader.integer("sessions", in: 0...Int64(Int32.max))))
        case "sessions_request":
            body = .sessionsRequest
        default:  // sessions_snapshot
            guard case .array(let items) = try reader.value("sessions") else {
                throw ProtocolError(.wrongType, "cluster message.sessions must be an array")
            }
            guard items.count <= SessionsSnapshot.maximumSessionsPerPart else {
                throw ProtocolError(
                    .invalidValue, "a snapshot part holds at most \(SessionsSnapshot.maximumSessionsPerPart) sessions")
            }
            var sessions: [ClusterSession] = []
            for item in items {
                var nested = try ObjectReader(item, context: "cluster message.sessions[]")
                sessions.append(try readSession(&nested))
            }
            guard case .bool(let more) = try reader.value("more") else {
                throw ProtocolError(.wrongType, "cluster message.more must be a boolean")
            }
            body = .sessionsSnapshot(SessionsSnapshot(
                id: try reader.integer("snapshot", in: 1...Int64.max), part: try reader.integer("part", in: 0...Int64(Int32.max)),
                broadcastSequence: try reader.integer("broadcast_seq", in: 0...Int64.max), sessions: sessions, more: more))
        }
        return ClusterMessage(hub: hub, sequence: sequence, body: body)
    }

    /// The JSON value of this message.
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["hub": .string(hub), "seq": .int(sequence)]
        switch body {
        case .signal(let relayed):
            fields["type"] = .string("signal")
            fields["network"] = .string(relayed.network)
            fields["to"] = .string(relayed.to.base64)
            fields["kind"] = .string(relayed.signal.kind.rawValue)
            fields["from"] = .string(relayed.signal.from.base64)
            fields["sealed"] = .object(["nonce": .string(relayed.signal.sealed.nonceText), "box": .string(relayed.signal.sealed.boxText)])
            if relayed.forwarded { fields["forwarded"] = .bool(true) }
        case .sessionClaimed(let session):
            fields["type"] = .string("session_claimed")
            fields.merge(Self.sessionFields(session)) { $1 }
        case .sessionEnded(let end):
            fields["type"] = .string("session_ended")
            fields["network"] = .string(end.network)
            fields["key"] = .string(end.key.base64)
            fields["session"] = .string(end.session)
            fields["reason"] = .string(end.reason.rawValue)
        case .hubAlive(let alive):
            fields["type"] = .string("hub_alive")
            fields["broadcast_seq"] = .int(alive.broadcastSequence)
            fields["sessions"] = .int(alive.sessionCount)
        case .sessionsSnapshot(let snapshot):
            fields["type"] = .string("sessions_snapshot")
            fields["snapshot"] = .int(snapshot.id)
            fields["part"] = .int(snapshot.part)
            fields["broadcast_seq"] = .int(snapshot.broadcastSequence)
            fields["sessions"] = .array(snapshot.sessions.map { .object(Self.sessionFields($0)) })
            fields["more"] = .bool(snapshot.more)
        case .sessionsRequest:
            fields["type"] = .string("sessions_request")
        }
        return .object(fields)
    }

    /// Fails unless `id` is 1-64 characters of `a-z`, `0-9`, `-` and `_`: a hub id is one token of NATS subjects
    /// (`rift.hub.<id>.alive`), so it must hold no dot (a token separator) and no wildcard.
    public static func checkHubID(_ id: String) throws(ProtocolError) {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
        }
        guard allowed, !id.isEmpty, id.utf8.count <= maximumHubIDLength else {
            throw ProtocolError(.invalidValue, "hub ids are 1-64 characters of a-z, 0-9, '-' and '_'")
        }
    }

    private static func sessionFields(_ session: ClusterSession) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "network": .string(session.network), "key": .string(session.key.base64), "session": .string(session.session),
            "claimed_at_ms": .int(session.claimedAtMilliseconds),
        ]
        if let peer = session.peer { fields["peer"] = peer.json }
        if let tokenID = session.tokenID { fields["token_id"] = .string(tokenID) }
        return fields
    }

    private static func readSession(_ reader: inout ObjectReader) throws(ProtocolError) -> ClusterSession {
        var session = ClusterSession(
            network: try readNetwork(&reader), key: try reader.publicKey("key"), session: try readSessionID(&reader),
            claimedAtMilliseconds: try reader.integer("claimed_at_ms", in: 0...Int64.max))
        if reader.optionalValue("peer") != nil {
            let peer = try reader.object("peer") { nested throws(ProtocolError) in try PeerInfo.read(&nested) }
            guard peer.publicKey == session.key else {
                throw ProtocolError(.invalidValue, "cluster message.peer.public_key differs from key")
            }
            session.peer = peer
        }
        if let tokenID = try reader.optionalString("token_id", maxLength: ClusterSession.maximumTokenIDLength) {
            guard !tokenID.isEmpty else { throw ProtocolError(.invalidValue, "cluster message.token_id is empty") }
            session.tokenID = tokenID
        }
        return session
    }

    private static func readNetwork(_ reader: inout ObjectReader) throws(ProtocolError) -> String {
        let network = try reader.string("network", maxLength: Limits.maximumNetworkNameLength)
        try Names.checkNetworkName(network)
        return network
    }

    private static func readSessionID(_ reader: inout ObjectReader) throws(ProtocolError) -> String {
        let session = try reader.string("session", maxLength: maximumSessionLength)
        guard let slash = session.lastIndex(of: "/") else {
            throw ProtocolError(.invalidValue, "a session id is <hub id>/<counter>")
        }
        let counter = session[session.index(after: slash)...]
        guard !counter.isEmpty, counter.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ProtocolError(.invalidValue, "a session id is <hub id>/<counter>")
        }
        try checkHubID(String(session[..<slash]))
        return session
    }
}
