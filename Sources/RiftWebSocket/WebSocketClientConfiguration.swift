/// Where a `WebSocketClient` connects and how it checks and bounds the connection.
public struct WebSocketClientConfiguration: Sendable {
    /// `ws://host[:port]/path` or `wss://…`.
    public var url: String
    /// Extra request headers, e.g. `("Authorization", "Bearer …")`. Values are never logged.
    /// Names must be HTTP tokens and may not be the handshake's own headers (Host, Upgrade,
    /// Connection, Sec-WebSocket-…); values may not contain line breaks.
    public var headers: [(name: String, value: String)] = []
    /// For `wss://`: verify the server against only the CA certificates in this PEM file;
    /// nil verifies against the system trust store. The host name is checked either way.
    public var caFile: String? = nil
    /// The subprotocol to ask for (`Sec-WebSocket-Protocol`), or nil for none.
    public var subprotocol: String? = nil
    /// The largest message accepted from the server; a larger one closes the connection with 1009.
    public var maximumMessageBytes = 65_536
    /// Idle time after which the client pings the server (whole seconds, rounded up).
    public var pingInterval: Duration = .seconds(20)
    /// Time without any traffic from the server after which the connection is dropped.
    public var pongTimeout: Duration = .seconds(60)
    /// Time allowed for TCP connect, TLS and the upgrade together.
    public var connectTimeout: Duration = .seconds(10)
    /// Time allowed for flushing queued messages and the close handshake after `close()`.
    public var closeTimeout: Duration = .seconds(5)
    /// A numeric address (IPv4 or IPv6) to connect to instead of resolving the URL's host, which still names the
    /// server: the Host header, the TLS server name and the certificate check use it. Nil resolves the host; libwebsockets
    /// then moves to the host's next address when a connect fails at once (refused, unreachable), but not when one
    /// times out: the connect timeout ends the whole attempt.
    public var connectAddress: String? = nil
    /// The most messages waiting to be written before the client closes with 1008.
    public var maximumQueuedMessages = 1_024
    /// The most bytes waiting to be written before the client closes with 1008.
    public var maximumQueuedBytes = 1 << 20

    /// A configuration for `url` with the defaults above.
    public init(url: String) {
        self.url = url
    }

    /// Parses the URL and checks every field; throws naming the first problem.
    func validated() throws(WebSocketError) -> WebSocketURL {
        func require(_ condition: Bool, _ reason: String) throws(WebSocketError) {
            if !condition { throw WebSocketError("invalid WebSocket client configuration: \(reason)") }
        }
        let parsed = try WebSocketURL(parsing: url)
        try require(maximumMessageBytes > 0, "maximumMessageBytes must be positive")
        try require(maximumQueuedMessages > 0 && maximumQueuedBytes > 0, "queue limits must be positive")
        try require(connectTimeout > .zero && closeTimeout > .zero, "timeouts must be positive")
        do { _ = try ClientHeartbeat(pingInterval: pingInterval, pongTimeout: pongTimeout) } catch {
            try require(false, error.reason)
        }
        if let subprotocol { try require(HTTPToken.isValid(subprotocol), "subprotocol must be an HTTP token") }
        if let connectAddress {
            try require(!connectAddress.isEmpty && connectAddress.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" },
                        "connectAddress must be a numeric IPv4 or IPv6 address")
        }
        let reserved: Set<String> = ["host", "upgrade", "connection", "origin", "content-length"]
        for header in headers {
            let name = header.name.lowercased()
            try require(HTTPToken.isValid(header.name), "header name \"\(header.name)\" is not an HTTP token")
            try require(!reserved.contains(name) && !name.hasPrefix("sec-websocket-"),
                        "header \(header.name) is set by the WebSocket handshake itself")
            try require(!header.value.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" },
                        "the value of header \(header.name) contains a line break or NUL")
        }
        return parsed
    }
}
