/// The plaintext inside a sealed signaling message.
///
/// It repeats the kind, sender and recipient so that the hub can neither turn an offer into an answer nor
/// reflect a peer's own message back to it: the recipient checks them against the envelope.
public struct SignalPayload: Sendable, Hashable {
    /// Must equal the envelope's `type`.
    public var kind: SignalKind
    /// Must equal the envelope's `from` (the hub-stamped sender).
    public var from: PublicKey
    /// Must equal the recipient's own key.
    public var to: PublicKey
    /// Chosen by the controlling peer for the pair; a new id means the controlling agent started afresh.
    public var session: String
    /// Incremented by the controlling peer on every ICE restart; older generations are stale.
    public var generation: Int64
    /// The kind-specific content.
    public var body: Body
    /// Offers only: the controlling side decided that this generation gathers relayed candidates only, and the
    /// controlled side must do the same (PROTOCOL.md §8). Encoded as `"relay_only": true`, omitted when false.
    public var relayOnly: Bool

    /// Kind-specific content of a signaling payload.
    public enum Body: Sendable, Hashable {
        /// Offer or answer: ICE credentials and candidates, and WireGuard parameters.
        case description(ICEDescription, WireGuardParameters)
        /// One candidate in SDP attribute form (`candidate:…`, without `a=`).
        case candidate(String)
        /// No more candidates for this generation.
        case endOfCandidates
        /// Please restart ICE; the reason is for logs.
        case restart(reason: String)
    }

    /// Creates a payload; `relayOnly` is meaningful (and encoded) for offers only.
    public init(kind: SignalKind, from: PublicKey, to: PublicKey, session: String, generation: Int64, body: Body,
                relayOnly: Bool = false) {
        self.kind = kind
        self.from = from
        self.to = to
        self.session = session
        self.generation = generation
        self.body = body
        self.relayOnly = kind == .offer && relayOnly
    }
}

/// What libnice needs of the remote side: credentials and candidates.
public struct ICEDescription: Sendable, Hashable {
    /// ICE username fragment.
    public var ufrag: String
    /// ICE password.
    public var pwd: String
    /// Candidates gathered so far, each in SDP attribute form (`candidate:…`).
    public var candidates: [String]

    /// Creates an ICE description.
    public init(ufrag: String, pwd: String, candidates: [String]) {
        self.ufrag = ufrag
        self.pwd = pwd
        self.candidates = candidates
    }
}

/// What WireGuard needs of the remote side.
public struct WireGuardParameters: Sendable, Hashable {
    /// The remote WireGuard public key (equal to its identity key).
    public var publicKey: PublicKey
    /// The UDP port its WireGuard device listens on, for a direct path.
    public var listenPort: UInt16

    /// Creates WireGuard parameters.
    public init(publicKey: PublicKey, listenPort: UInt16) {
        self.publicKey = publicKey
        self.listenPort = listenPort
    }
}

extension SignalPayload {
    /// Decodes the opened plaintext, failing with `invalid_value`, `missing_field`, `wrong_type` or `unknown_field`
    /// (`relay_only` anywhere but in an offer is unknown).
    public static func decode(_ plaintext: [UInt8]) throws(ProtocolError) -> SignalPayload {
        let value = try JSONParser.parse(plaintext)
        var reader = try ObjectReader(value, context: "payload")
        guard let kind = SignalKind(rawValue: try reader.string("type", maxLength: 64)) else {
            throw ProtocolError(.unknownType, "payload.type is not a signal kind")
        }
        let from = try reader.publicKey("from")
        let to = try reader.publicKey("to")
        let session = try reader.string("session", maxLength: 64)
        guard !session.isEmpty, session.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProtocolError(.invalidValue, "payload.session must be 1-64 printable ASCII characters")
        }
        let generation = try reader.integer("generation", in: 0...Int64(UInt32.max))
        let body: Body
        // Only an offer may carry `relay_only`; anywhere else `finish()` reports it as an unknown field.
        let relayOnly = kind == .offer ? try reader.optionalBool("relay_only") ?? false : false
        switch kind {
        case .offer, .answer:
            let ice = try reader.object("ice") { nested throws(ProtocolError) in
                ICEDescription(
                    ufrag: try Self.iceCredential(nested.string("ufrag", maxLength: 256), "ufrag", minimumLength: 4),
                    pwd: try Self.iceCredential(nested.string("pwd", maxLength: 256), "pwd", minimumLength: 22),
                    candidates: try nested.strings("candidates", maxCount: Limits.maximumCandidatesPerDescription,
                                                   maxLength: Limits.maximumCandidateLength))
            }
            let wireguard = try reader.object("wireguard") { nested throws(ProtocolError) in
                WireGuardParameters(publicKey: try nested.publicKey("public_key"),
                                    listenPort: UInt16(try nested.integer("listen_port", in: 1...65535)))
            }
            body = .description(ice, wireguard)
        case .candidate:
            body = .candidate(try reader.string("candidate", maxLength: Limits.maximumCandidateLength))
        case .endOfCandidates:
            body = .endOfCandidates
        case .restart:
            body = .restart(reason: try reader.string("reason", maxLength: 256))
        }
        try reader.finish()
        return SignalPayload(kind: kind, from: from, to: to, session: session, generation: generation, body: body,
                             relayOnly: relayOnly)
    }

    /// An ICE ufrag or pwd as RFC 8839 §5.4 defines it: `minimumLength`–256 `ice-char`s (`A-Z a-z 0-9 + /`).
    static func iceCredential(_ text: String, _ field: String, minimumLength: Int) throws(ProtocolError) -> String {
        let isICEChar: (UInt8) -> Bool = { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
        }
        guard text.utf8.count >= minimumLength, text.utf8.allSatisfy(isICEChar) else {
            throw ProtocolError(.invalidValue, "payload.ice.\(field) must be \(minimumLength)-256 characters of A-Z, a-z, 0-9, '+' and '/'")
        }
        return text
    }

    /// The plaintext bytes to seal: compact JSON with sorted keys.
    public func encoded() -> [UInt8] { Array(JSONWriter.string(json).utf8) }

    /// The JSON value of the payload.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "type": .string(kind.rawValue), "from": .string(from.base64), "to": .string(to.base64),
            "session": .string(session), "generation": .int(generation),
        ]
        if relayOnly { fields["relay_only"] = .bool(true) }
        switch body {
        case .description(let ice, let wireguard):
            fields["ice"] = .object([
                "ufrag": .string(ice.ufrag), "pwd": .string(ice.pwd), "candidates": .array(ice.candidates.map(JSONValue.string)),
            ])
            fields["wireguard"] = .object([
                "public_key": .string(wireguard.publicKey.base64), "listen_port": .int(Int64(wireguard.listenPort)),
            ])
        case .candidate(let candidate): fields["candidate"] = .string(candidate)
        case .endOfCandidates: break
        case .restart(let reason): fields["reason"] = .string(reason)
        }
        return .object(fields)
    }
}
