/// What a client sent when it opened a WebSocket connection, as handed to
/// `WebSocketServerHandler.connectionOpened(_:request:)`.
public struct UpgradeRequest: Sendable, Hashable, CustomStringConvertible {
    /// The request path without the query string, e.g. `/v1/signal`.
    public var path: String
    /// The whole `Authorization` header value (e.g. `Bearer …`), or nil when absent.
    /// It is a credential: `description` never prints it.
    public var authorization: String?
    /// The `Host` header, or nil when absent.
    public var host: String?
    /// The client's IP address as text (IPv4 addresses without an IPv6 mapping prefix); behind
    /// a reverse proxy, the proxy's address.
    public var remoteAddress: String
    /// The `X-Forwarded-For` header a reverse proxy adds, or nil. Only trustworthy when the
    /// server is reachable through that proxy alone.
    public var forwardedFor: String?

    /// Creates a request; used by the server and by tests of handlers.
    public init(path: String, authorization: String?, host: String?, remoteAddress: String, forwardedFor: String? = nil) {
        self.path = path
        self.authorization = authorization
        self.host = host
        self.remoteAddress = remoteAddress
        self.forwardedFor = forwardedFor
    }

    /// The request for logs, with the `Authorization` value replaced by `<redacted>`.
    public var description: String {
        let credential = authorization == nil ? "none" : "<redacted>"
        return "UpgradeRequest(path: \(path), host: \(host ?? "-"), from: \(remoteAddress), authorization: \(credential))"
    }
}

extension UpgradeRequest: CustomReflectable {
    /// What `dump` and debuggers show: the fields, with the `Authorization` value redacted.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "path": path, "authorization": authorization == nil ? "none" : "<redacted>", "host": host as Any,
            "remoteAddress": remoteAddress, "forwardedFor": forwardedFor as Any,
        ])
    }
}
