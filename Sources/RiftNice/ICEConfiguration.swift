/// How libnice reaches a TURN server: over UDP, or over TCP (RFC 8656's TCP client transport, for networks that let
/// out no UDP). The relayed address on the server is UDP either way. (TLS, `turns:`, is not used: not tested here.)
public enum ICERelayTransport: String, Sendable, CaseIterable {
    case udp, tcp
}

/// The STUN and TURN servers one ICE session uses.
///
/// Host names are resolved once, when the session is created (libnice needs numeric addresses). `description`
/// never prints TURN passwords.
public struct ICEServerConfiguration: Sendable, CustomStringConvertible {
    /// The STUN server for server-reflexive candidates, if any.
    public var stun: (host: String, port: UInt16)?
    /// TURN servers (long-term credentials) for relayed candidates, each with the transport that reaches it.
    public var turn: [(host: String, port: UInt16, username: String, password: String, transport: ICERelayTransport)]
    /// Use only relayed candidates, so the peer never learns this host's addresses. Needs a TURN server.
    public var forceRelay: Bool = false

    /// Creates a server configuration; with no arguments, host candidates only.
    public init(
        stun: (host: String, port: UInt16)? = nil,
        turn: [(host: String, port: UInt16, username: String, password: String, transport: ICERelayTransport)] = [],
        forceRelay: Bool = false
    ) {
        self.stun = stun
        self.turn = turn
        self.forceRelay = forceRelay
    }

    public var description: String {
        let stunText = stun.map { "\($0.host):\($0.port)" } ?? "none"
        let turnText = turn.map { "\($0.username)@\($0.host):\($0.port)" + ($0.transport == .udp ? "" : "/\($0.transport.rawValue)") }
            .joined(separator: ", ")
        return "stun: \(stunText), turn: [\(turnText)] (passwords redacted), forceRelay: \(forceRelay)"
    }
}

/// How one `ICESession` is set up.
public struct ICESessionConfiguration: Sendable, CustomStringConvertible {
    /// Whether this side is the controlling agent (it nominates the pair). Exactly one peer must be.
    public var controlling: Bool
    /// STUN and TURN servers.
    public var servers: ICEServerConfiguration
    /// RFC 7675 consent freshness: a pair whose peer stops answering fails within about 30 s.
    public var consentFreshness = true
    /// Local UDP ports for host candidates; nil lets the system choose.
    public var portRange: ClosedRange<UInt16>? = nil
    /// Numeric IP addresses to gather host candidates on. Empty means every address libnice finds (loopback
    /// excluded). Listing addresses keeps candidates off interfaces that must not carry ICE, such as the
    /// WireGuard interface this session feeds.
    public var localAddresses: [String] = []
    /// Requested kernel send and receive buffer size for the session's sockets, in bytes (Linux doubles it
    /// for bookkeeping); 0 leaves the system default. Bursts of forwarded packets overflow the default
    /// (about 208 KiB) buffers.
    public var socketBufferBytes: Int = 4 << 20
    /// libnice's `Ta` (its `stun-pacing-timer` property), in milliseconds: the tick that paces candidate gathering
    /// (a TURN Allocate retried after its 401, the end of gathering) and connectivity checks (a triggered check
    /// waits for the next tick). Nil keeps libnice's default, 20 ms. RFC 8445 section 14.2 allows no less than
    /// `minimumCheckPacingMilliseconds` (for all of a host's agents together, which a value this low leaves to the
    /// caller: use it for sessions with a handful of transactions).
    public var checkPacingMilliseconds: UInt32? = nil

    /// The smallest `Ta` RFC 8445 (section 14.2) allows.
    public static let minimumCheckPacingMilliseconds: UInt32 = 5

    /// Creates a session configuration.
    public init(
        controlling: Bool, servers: ICEServerConfiguration = ICEServerConfiguration(),
        consentFreshness: Bool = true, portRange: ClosedRange<UInt16>? = nil,
        localAddresses: [String] = [], socketBufferBytes: Int = 4 << 20
    ) {
        self.controlling = controlling
        self.servers = servers
        self.consentFreshness = consentFreshness
        self.portRange = portRange
        self.localAddresses = localAddresses
        self.socketBufferBytes = socketBufferBytes
    }

    public var description: String {
        "controlling: \(controlling), \(servers), consentFreshness: \(consentFreshness), "
            + "portRange: \(portRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "any"), "
            + "localAddresses: \(localAddresses.isEmpty ? "all" : localAddresses.joined(separator: ","))"
            + (checkPacingMilliseconds.map { ", check pacing: \($0) ms" } ?? "")
    }

    /// Checks what can be checked without the network.
    func validate() throws(ICEError) {
        if let range = portRange, range.lowerBound == 0 {
            throw ICEError(.invalidConfiguration, "port range must start at 1 or above")
        }
        if servers.forceRelay && servers.turn.isEmpty {
            throw ICEError(.invalidConfiguration, "forceRelay needs at least one TURN server")
        }
        if let pacing = checkPacingMilliseconds, pacing < Self.minimumCheckPacingMilliseconds {
            throw ICEError(.invalidConfiguration,
                           "check pacing must be at least \(Self.minimumCheckPacingMilliseconds) ms (RFC 8445 Ta), not \(pacing)")
        }
        guard socketBufferBytes >= 0, socketBufferBytes <= Int(Int32.max) else {
            throw ICEError(.invalidConfiguration, "socket buffer size must be 0...\(Int32.max)")
        }
    }
}
