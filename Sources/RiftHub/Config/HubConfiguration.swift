import RiftCluster
import RiftStore

/// Everything `riftgate-hub serve` needs, after flags, environment, config file and defaults are merged.
public struct HubConfiguration: Sendable, Hashable {
    /// Where the WebSocket server listens.
    public var listen = ListenAddress(host: nil, port: 8443)
    /// TLS certificate chain (PEM); nil with `tlsKey` nil serves plain `ws://`.
    public var tlsCertificate: String?
    /// TLS private key (PEM).
    public var tlsKey: String?
    /// The state directory: the hub key and, unless `database` says otherwise, the database.
    public var stateDirectory: String = StateDirectory.defaultPath()
    /// The SQLite database file, or a PostgreSQL URL (`postgres://user@host/db`) for a cluster of hubs; nil = `<stateDirectory>/hub.db`.
    public var database: String?
    /// The UDP port of the STUN responder; nil disables it.
    public var stunPort: UInt16? = 3478
    /// The address the STUN responder binds; nil = the `listen` host (a hub behind a local proxy listens on
    /// 127.0.0.1 but must answer STUN on its public address).
    public var stunHost: String?
    /// A second UDP port answering STUN, on the same address, for `riftgate netcheck`: a client that sees a different
    /// mapping for each port is behind an address-and-port-dependent ("symmetric") NAT. nil (the default) = none.
    public var stunAltPort: UInt16?
    /// The file holding coturn's `static-auth-secret`.
    public var turnSecretFile: String?
    /// TURN URIs handed out with credentials, for example `turn:relay.example:3478`.
    public var turnURLs: [String] = []
    /// How long TURN credentials stay valid, in seconds.
    public var turnTTL: Int64 = 12 * 3600
    /// Seconds between the hub's own TURN allocation checks (`TURNCheck`).
    public var turnCheckInterval: Int64 = 60
    /// The host name agents use for the hub's STUN server; nil = each request's `Host`.
    public var publicHost: String?
    /// A second listener for `/healthz` and `/metrics` only; nil = none.
    public var adminListen: ListenAddress?
    /// Reverse proxies whose `X-Forwarded-For` names the real client (for the failed-login limiter and logs).
    public var trustedProxies: [String] = ClientAddress.defaultTrustedProxies
    /// Seconds between WebSocket pings; announced as `heartbeat_seconds`, which agents follow when it is shorter
    /// than their own 20 s (they then also call the hub lost after three intervals without a pong).
    public var pingInterval: Int64 = 20
    /// Seconds without a pong (or any traffic) after which a connection is dropped.
    public var pongTimeout: Int64 = 60
    /// Seconds an ephemeral peer may be gone before it is removed from its network (`token create --ephemeral`).
    public var ephemeralGrace: Int64 = 300
    /// The log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// The NATS servers of a hub cluster (`nats://host:4222`, comma-separated in text); empty = the single hub, with no
    /// NATS connection and no cluster thread.
    public var natsServers: [String] = []
    /// This hub's name in the cluster; nil = derived from the host name. Each start adds a random suffix
    /// (`ClusterIdentity`).
    public var hubID: String?
    /// PEM file of the CAs that sign the NATS servers' certificates (`tls://` URLs); nil = the system's trust store.
    public var natsCAFile: String?
    /// A NATS `.creds` file (user JWT and nkey seed) to authenticate with instead of a user and password in the URLs.
    public var natsCredentialsFile: String?

    /// The defaults: plain `ws://` on port 8443, STUN on 3478, state in the default directory.
    public init() {}

    /// The database path in effect.
    public var databasePath: String { database ?? StateDirectory(path: stateDirectory).databasePath }

    /// The database in effect as it may be logged: a PostgreSQL URL without its password.
    public var databaseDescription: String { PostgresURL.redacted(databasePath) }

    /// Whether the state lives in PostgreSQL (`database = "postgres://…"`) rather than a SQLite file.
    public var usesPostgres: Bool { PostgresURL.isURL(databasePath) }

    /// Checks that the values can work together; the error names the setting.
    public func validate() throws(ConfigurationError) {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("tls_cert and tls_key must be given together")
        }
        if turnSecretFile != nil, turnURLs.isEmpty {
            throw ConfigurationError("turn_secret_file needs turn_urls (for example turn:relay.example:3478)")
        }
        for url in turnURLs where !(url.hasPrefix("turn:") || url.hasPrefix("turns:")) {
            throw ConfigurationError("turn_urls entry \"\(url)\" is not a turn: or turns: URI")
        }
        guard pingInterval >= 1, pongTimeout > pingInterval, pongTimeout <= 3600 else {
            throw ConfigurationError("ping_interval must be at least 1 s and pong_timeout longer than it (at most 3600 s)")
        }
        guard ephemeralGrace >= 1 else { throw ConfigurationError("ephemeral_grace must be at least 1 second") }
        guard turnCheckInterval >= 1 else { throw ConfigurationError("turn_check_interval must be at least 1 second") }
        guard turnTTL >= 60 else { throw ConfigurationError("turn_ttl must be at least 60 seconds") }
        if let publicHost, ICEServerPolicy.hostPart(publicHost) != publicHost {
            throw ConfigurationError("public_host \"\(publicHost)\" is not a host name or IP literal ([...] for IPv6)")
        }
        for proxy in trustedProxies where !ClientAddress.isIPAddress(proxy) {
            throw ConfigurationError("trusted_proxies entry \"\(proxy)\" is not an IP address")
        }
        if !natsServers.isEmpty {
            do {
                _ = try ServerList(natsServers)
            } catch {
                throw ConfigurationError("nats: \(error.reason)")
            }
        }
        if let hubID, !ClusterIdentity.isValidName(hubID) {
            throw ConfigurationError("hub_id \"\(hubID)\" must be 1-\(ClusterIdentity.maximumNameLength) characters of a-z, 0-9, '-' and '_'")
        }
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            throw ConfigurationError("log_level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }
}

/// A configuration problem, naming the setting and where it came from.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var reason: String

    /// Creates an error.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}
