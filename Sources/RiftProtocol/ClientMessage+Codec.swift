extension ClientMessage {
    /// Decodes one frame from an agent, failing with the code `PROTOCOL.md` specifies for the first problem found.
    ///
    /// A client-supplied `from` fails with `sender_not_allowed`: only the hub names senders.
    ///
    /// A signal in its usual form is read straight from the bytes (`SignalFrameScanner`, the hub's fast path); every
    /// other frame, and every refusal, goes through the generic decoder (`decodeFromTree`), which names the error.
    public static func decode(_ text: String) throws(ProtocolError) -> ClientMessage {
        if let signal = SignalFrameScanner.signal(in: text) { return .signal(signal) }
        return try decodeFromTree(text)
    }

    /// Decodes `text` through a `JSONValue` tree: every message type, every accepted form, every refusal.
    static func decodeFromTree(_ text: String) throws(ProtocolError) -> ClientMessage {
        var (reader, type) = try MessageFrame.open(text, knownTypes: types)
        let message: ClientMessage
        if type == "hello" {
            let version = try reader.integer("version", in: 1...Int64(Int32.max))
            let key = try reader.publicKey("public_key")
            let name = try reader.string("name", maxLength: 4 * Limits.maximumPeerNameLength)
            guard Names.isValidPeerName(name) else {
                throw ProtocolError(.invalidValue, "hello.name must be 1-63 Unicode scalars without control (Cc), format (Cf) or line/paragraph separator (Zl, Zp) characters, not starting or ending with a space (Zs)")
            }
            let proof = try SealedBox.read(&reader, "proof")
            let routes = try SubnetRoute.readList(&reader, "advertise_routes", "hello.advertise_routes")
            if routes != nil, version < ProtocolVersion.v4 {
                throw ProtocolError(.invalidValue, "hello.advertise_routes needs protocol version 4 or later")
            }
            let exitNode = try reader.optionalBool("advertise_exit_node")
            if exitNode != nil, version < ProtocolVersion.v5 {
                throw ProtocolError(.invalidValue, "hello.advertise_exit_node needs protocol version 5 or later")
            }
            message = .hello(Hello(version: version, publicKey: key, name: name, proof: proof, id: try MessageFrame.readID(&reader),
                                   advertiseRoutes: routes, advertiseExitNode: exitNode))
        } else if type == "ice_servers" {
            message = .iceServers(ICEServersRequest(id: try MessageFrame.readID(&reader)))
        } else {
            let kind = SignalKind(rawValue: type)!
            if reader.optionalValue("from") != nil {
                throw ProtocolError(.senderNotAllowed, "\"from\" is set by the hub; a client may not send it")
            }
            let to = try reader.publicKey("to")
            let sealed = try SealedBox.read(&reader, "sealed")
            message = .signal(OutgoingSignal(kind: kind, to: to, sealed: sealed, id: try MessageFrame.readID(&reader)))
        }
        try reader.finish()
        return message
    }

    /// The JSON value of this message.
    public var json: JSONValue {
        switch self {
        case .hello(let hello):
            .fields([
                ("type", .string("hello")), ("version", .int(hello.version)),
                ("public_key", .string(hello.publicKey.base64)), ("name", .string(hello.name)),
                ("proof", hello.proof.json), ("id", hello.id.map(JSONValue.string)),
                ("advertise_routes", hello.advertiseRoutes.map { routes in .array(routes.map { .string($0.description) }) }),
                ("advertise_exit_node", hello.advertiseExitNode.map(JSONValue.bool)),
            ])
        case .iceServers(let request):
            .fields([("type", .string("ice_servers")), ("id", request.id.map(JSONValue.string))])
        case .signal(let signal):
            .fields([
                ("type", .string(signal.kind.rawValue)), ("to", .string(signal.to.base64)),
                ("sealed", signal.sealed.json), ("id", signal.id.map(JSONValue.string)),
            ])
        }
    }

    /// The frame text of this message.
    public func encoded() -> String { JSONWriter.string(json) }
}
