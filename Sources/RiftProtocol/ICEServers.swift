/// The STUN and TURN servers a network's agents use, with short-lived TURN credentials.
public struct ICEServers: Sendable, Hashable {
    /// STUN server URIs (RFC 7064), for example `stun:hub.example:3478`.
    public var stun: [String]
    /// TURN servers with credentials.
    public var turn: [TURNServer]

    /// Creates a server list.
    public init(stun: [String] = [], turn: [TURNServer] = []) {
        self.stun = stun
        self.turn = turn
    }

    var json: JSONValue {
        .object(["stun": .array(stun.map(JSONValue.string)), "turn": .array(turn.map(\.json))])
    }

    static func read(_ reader: inout ObjectReader, _ key: String) throws(ProtocolError) -> ICEServers {
        try reader.object(key) { nested throws(ProtocolError) in
            let stun = try nested.strings("stun", maxCount: 8, maxLength: 256)
            guard case .array(let items) = try nested.value("turn"), items.count <= 8 else {
                throw ProtocolError(.wrongType, "\(key).turn must be an array of at most 8 servers")
            }
            var turn: [TURNServer] = []
            for item in items {
                var server = try ObjectReader(item, context: "\(key).turn[]")
                turn.append(try TURNServer.read(&server))
                try server.finish()
            }
            return ICEServers(stun: stun, turn: turn)
        }
    }
}

/// One TURN server with credentials in the TURN REST format (`username` = `expiry:name`, `credential` =
/// base64 HMAC-SHA1 of the username under the shared secret), as coturn's `static-auth-secret` accepts.
public struct TURNServer: Sendable, Hashable {
    /// TURN URIs (RFC 7065), for example `turn:relay.example:3478?transport=udp`.
    public var urls: [String]
    /// The time-limited user name.
    public var username: String
    /// The password derived from the shared secret.
    public var credential: String
    /// When the credential stops working, in seconds since the Unix epoch.
    public var expiresAt: Int64

    /// Creates a TURN server entry.
    public init(urls: [String], username: String, credential: String, expiresAt: Int64) {
        self.urls = urls
        self.username = username
        self.credential = credential
        self.expiresAt = expiresAt
    }

    var json: JSONValue {
        .object([
            "urls": .array(urls.map(JSONValue.string)), "username": .string(username),
            "credential": .string(credential), "expires_at": .int(expiresAt),
        ])
    }

    static func read(_ reader: inout ObjectReader) throws(ProtocolError) -> TURNServer {
        TURNServer(
            urls: try reader.strings("urls", maxCount: 8, maxLength: 256),
            username: try reader.string("username", maxLength: 256),
            credential: try reader.string("credential", maxLength: 256),
            expiresAt: try reader.integer("expires_at", in: 0...Int64(UInt32.max) * 4))
    }
}
