/// How a hub connects to the NATS cluster: which servers, under which name, and how it reconnects.
///
/// libnats reconnects for ever (no retry limit): after trying every known server (the configured ones and those the
/// cluster announces) it waits `reconnectWait` plus a random jitter of up to `reconnectJitter`, so that the hubs of a
/// cluster whose NATS node died do not all come back at once. A dead server that closed no socket (a partition, a
/// powered-off machine) is noticed after `pingInterval` × (`maximumPingsOutstanding` + 1) at most.
public struct ClusterBusConfiguration: Sendable {
    /// The servers to connect to (credentials in them are never logged).
    public var servers: ServerList
    /// The connection's name, shown by the servers' monitoring (`/connz`): the hub id, for example.
    public var name: String
    /// The wait between two rounds of reconnection attempts (libnats' default is 2 s).
    public var reconnectWait: Duration = .seconds(1)
    /// The upper bound of the random delay added to `reconnectWait`.
    public var reconnectJitter: Duration = .milliseconds(500)
    /// How long one attempt to connect to one server may take.
    public var connectTimeout: Duration = .seconds(2)
    /// How often the client pings its server to find out that it is gone (libnats' default is 2 minutes).
    public var pingInterval: Duration = .seconds(5)
    /// Pings without a pong after which the server is declared gone and the client reconnects.
    public var maximumPingsOutstanding = 2
    /// Whether to try the servers in a random order (spreads hubs over the nodes); tests turn it off to choose the node.
    public var randomizesServers = true
    /// Whether subscriptions share libnats' pool of delivery threads instead of one thread each (libnats' default).
    /// A client with many subscriptions must share (thousands would otherwise be thousands of threads); the hub, with
    /// four, shares too. Each subscription still stays on one pool thread, so its messages keep their order; a slow
    /// handler then delays the other subscriptions on its thread.
    public var sharesDeliveryThreads = false
    /// PEM file of the certificate authorities that sign the servers' TLS certificates (for `tls://` URLs, or servers
    /// that require TLS); nil: the system's trust store (OpenSSL's default paths, e.g. /etc/ssl/certs).
    public var caFile: String?
    /// A NATS credentials file (`.creds`: a user JWT and its nkey seed, as `nsc` writes it) to authenticate with; nil:
    /// the URL's user and password or token, if any, else no authentication.
    public var credentialsFile: String?
    /// Bytes published while reconnecting that libnats keeps and sends after reconnection; beyond them `publish`
    /// fails. Signals are retried end to end (ICE), so this only smooths a short outage.
    public var reconnectBufferBytes = 8 << 20

    /// A configuration for `servers` with the defaults above.
    public init(servers: ServerList, name: String) {
        self.servers = servers
        self.name = name
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), as libnats takes durations.
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
