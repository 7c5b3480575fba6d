import ArgumentParser
import RiftHub

/// `riftgate-hub serve`.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the hub until SIGTERM or SIGINT.",
        discussion: "Every option can also be set in the config file (same name with _ for -) or as RIFTGATE_HUB_<NAME>; flags win over the environment, which wins over the file.")

    @OptionGroup var state: StateOptions
    @Option(help: "Address to listen on (default 0.0.0.0:8443).") var listen: String?
    @Option(name: .customLong("tls-cert"), help: "TLS certificate chain (PEM); without it the hub serves plain ws://.") var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "TLS private key (PEM).") var tlsKey: String?
    @Option(name: .customLong("stun-port"), help: "UDP port of the built-in STUN server (default 3478).") var stunPort: Int?
    @Option(name: .customLong("stun-host"), help: "Address the STUN server binds (default: the --listen address), e.g. 0.0.0.0 when --listen is 127.0.0.1 behind a proxy.") var stunHost: String?
    @Option(name: .customLong("stun-alt-port"), help: "A second UDP port answering STUN, for riftgate netcheck's NAT mapping test (default: none), e.g. 3479.") var stunAltPort: Int?
    @Flag(name: .customLong("no-stun"), help: "Do not run the built-in STUN server.") var noSTUN = false
    @Option(name: .customLong("turn-secret-file"), help: "File holding coturn's static-auth-secret.") var turnSecretFile: String?
    @Option(name: .customLong("turn-url"), help: "TURN URI handed out with credentials (repeatable), e.g. turn:relay.example:3478.") var turnURLs: [String] = []
    @Option(name: .customLong("turn-ttl"), help: "Lifetime of TURN credentials (default 12h).") var turnTTL: String?
    @Option(name: .customLong("turn-check-interval"), help: "How often the hub checks its TURN credentials with an allocation (default 60s).") var turnCheckInterval: String?
    @Option(name: .customLong("public-host"), help: "Host name agents use for STUN (default: the Host header of each request).") var publicHost: String?
    @Option(name: .customLong("admin-listen"), help: "Separate address for /healthz and /metrics, e.g. 127.0.0.1:9090.") var adminListen: String?
    @Option(name: .customLong("ping-interval"), help: "Seconds between WebSocket pings (default 20).") var pingInterval: String?
    @Option(name: .customLong("pong-timeout"), help: "Drop a connection silent for this long (default 60).") var pongTimeout: String?
    @Option(name: .customLong("ephemeral-grace"), help: "Remove a peer admitted by an ephemeral token once it has been gone this long (default 5m).")
    var ephemeralGrace: String?
    @Option(name: .customLong("trusted-proxy"),
            help: "A reverse proxy whose X-Forwarded-For is believed (repeatable; default 127.0.0.1 and ::1).") var trustedProxies: [String] = []
    @Option(name: .customLong("nats"),
            help: "Run as a member of a hub cluster: NATS servers, comma-separated, e.g. nats://a:4222,nats://b:4222 (preview).")
    var nats: String?
    @Option(name: .customLong("nats-ca-file"), help: "PEM CA certificates for tls:// NATS servers (default: the system's trust store).")
    var natsCAFile: String?
    @Option(name: .customLong("nats-credentials-file"), help: "NATS .creds file (user JWT and nkey seed); or give user:password in the URLs.")
    var natsCredentialsFile: String?
    @Option(name: .customLong("hub-id"), help: "This hub's name in the cluster, a-z 0-9 - _ (default: from the host name).") var hubID: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).") var logLevel: String?

    func run() throws {
        var flags = state.flags
        let texts: [(String, String?)] = [
            ("listen", listen), ("tls_cert", tlsCertificate), ("tls_key", tlsKey), ("turn_secret_file", turnSecretFile),
            ("turn_ttl", turnTTL), ("turn_check_interval", turnCheckInterval), ("public_host", publicHost), ("admin_listen", adminListen), ("ping_interval", pingInterval),
            ("pong_timeout", pongTimeout), ("ephemeral_grace", ephemeralGrace), ("log_level", logLevel), ("stun_host", stunHost),
            ("nats", nats), ("hub_id", hubID), ("nats_ca_file", natsCAFile), ("nats_credentials_file", natsCredentialsFile),
        ]
        for (key, value) in texts { if let value { flags[key] = .text(value) } }
        if let stunPort { flags["stun_port"] = .integer(stunPort) }
        if let stunAltPort { flags["stun_alt_port"] = .integer(stunAltPort) }
        if noSTUN { flags["no_stun"] = .boolean(true) }
        if !turnURLs.isEmpty { flags["turn_urls"] = .list(turnURLs) }
        if !trustedProxies.isEmpty { flags["trusted_proxies"] = .list(trustedProxies) }
        try HubServe.run(configFile: state.config, flags: flags, frameStreamWatcher: try FrameGuard())
    }
}
