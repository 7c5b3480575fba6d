extension HubMessage {
    /// Decodes one frame from the hub, failing with the specified error code.
    public static func decode(_ text: String) throws(ProtocolError) -> HubMessage {
        var (reader, type) = try MessageFrame.open(text, knownTypes: types)
        let message: HubMessage
        switch type {
        case "challenge":
            message = .challenge(Challenge(
                versions: try reader.integers("versions", maxCount: 16),
                hubKey: try reader.publicKey("hub_key"),
                nonce: try reader.bytes("nonce", byteCount: Challenge.nonceBytes)))
        case "welcome":
            message = .welcome(try readWelcome(&reader))
        case "peer_joined":
            message = .peerJoined(try reader.object("peer") { nested throws(ProtocolError) in try PeerInfo.read(&nested) })
        case "peer_left":
            message = .peerLeft(PeerLeft(publicKey: try reader.publicKey("public_key"), reason: try reader.string("reason", maxLength: 64)))
        case "ice_servers":
            message = .iceServers(try ICEServers.read(&reader, "ice"))
        case "error":
            message = .error(ErrorFrame(
                code: try reader.string("code", maxLength: 64), message: try reader.string("message", maxLength: 1024),
                ref: try reader.optionalString("ref", maxLength: Limits.maximumMessageIDLength)))
        default:
            message = .signal(RelayedSignal(
                kind: SignalKind(rawValue: type)!, from: try reader.publicKey("from"),
                sealed: try SealedBox.read(&reader, "sealed")))
        }
        try reader.finish()
        return message
    }

    private static func readWelcome(_ reader: inout ObjectReader) throws(ProtocolError) -> Welcome {
        let version = try reader.integer("version", in: 1...Int64(Int32.max))
        let network = try reader.string("network", maxLength: Limits.maximumNetworkNameLength)
        try Names.checkNetworkName(network)
        let me = try reader.object("self") { nested throws(ProtocolError) in try PeerInfo.read(&nested) }
        guard let ipv4Prefix = IPv4Prefix(try reader.string("ipv4_prefix", maxLength: 18)) else {
            throw ProtocolError(.invalidValue, "welcome.ipv4_prefix is not an IPv4 prefix")
        }
        guard let ipv6Prefix = IPv6Prefix(try reader.string("ipv6_prefix", maxLength: 43)) else {
            throw ProtocolError(.invalidValue, "welcome.ipv6_prefix is not an IPv6 prefix")
        }
        guard case .array(let items) = try reader.value("peers") else {
            throw ProtocolError(.wrongType, "welcome.peers must be an array")
        }
        var peers: [PeerInfo] = []
        for item in items {
            var peer = try ObjectReader(item, context: "welcome.peers[]")
            peers.append(try PeerInfo.read(&peer))
            try peer.finish()
        }
        let ice = try ICEServers.read(&reader, "ice")
        let heartbeat = try reader.integer("heartbeat_seconds", in: 1...3600)
        let dnsDomain = try reader.optionalString("dns_domain", maxLength: DNSNames.maximumDomainLength)
        if let dnsDomain { try DNSNames.checkDomain(dnsDomain, "welcome.dns_domain") }
        return Welcome(version: version, network: network, me: me, ipv4Prefix: ipv4Prefix, ipv6Prefix: ipv6Prefix,
                       peers: peers, ice: ice, heartbeatSeconds: heartbeat, dnsDomain: dnsDomain)
    }

    /// The JSON value of this message.
    public var json: JSONValue {
        switch self {
        case .challenge(let challenge):
            .object([
                "type": .string("challenge"), "versions": .array(challenge.versions.map(JSONValue.int)),
                "hub_key": .string(challenge.hubKey.base64), "nonce": .string(Base64.encode(challenge.nonce)),
            ])
        case .welcome(let welcome):
            .fields([
                ("type", .string("welcome")), ("version", .int(welcome.version)), ("network", .string(welcome.network)),
                ("self", welcome.me.json), ("ipv4_prefix", .string(welcome.ipv4Prefix.description)),
                ("ipv6_prefix", .string(welcome.ipv6Prefix.description)), ("peers", .array(welcome.peers.map(\.json))),
                ("ice", welcome.ice.json), ("heartbeat_seconds", .int(welcome.heartbeatSeconds)),
                ("dns_domain", welcome.dnsDomain.map(JSONValue.string)),
            ])
        case .peerJoined(let peer):
            .object(["type": .string("peer_joined"), "peer": peer.json])
        case .peerLeft(let left):
            .object(["type": .string("peer_left"), "public_key": .string(left.publicKey.base64), "reason": .string(left.reason)])
        case .signal(let signal):
            .object(["type": .string(signal.kind.rawValue), "from": .string(signal.from.base64), "sealed": signal.sealed.json])
        case .iceServers(let ice):
            .object(["type": .string("ice_servers"), "ice": ice.json])
        case .error(let frame):
            .fields([("type", .string("error")), ("code", .string(frame.code)), ("message", .string(frame.message)),
                     ("ref", frame.ref.map(JSONValue.string))])
        }
    }

    /// The frame text of this message.
    public func encoded() -> String {
        if case .signal(let signal) = self { return signal.encodedFrame() }
        return JSONWriter.string(json)
    }
}
