public import RiftProtocol
import RiftCrypto

/// The coturn shared secret (`static-auth-secret`). `description` never shows it.
public struct TURNSecret: Sendable, CustomStringConvertible {
    /// The secret text, used only to derive credentials.
    let text: String

    /// Wraps a secret, trimming surrounding whitespace (files usually end in a newline); nil when empty.
    public init?(_ text: String) {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !trimmed.isEmpty else { return nil }
        self.text = trimmed
    }

    public var description: String { "TURNSecret(redacted)" }
}

/// Which STUN and TURN servers a session is told about, and its TURN credentials.
public struct ICEServerPolicy: Sendable {
    /// The port of the hub's own STUN responder; nil when it is disabled.
    public var stunPort: UInt16?
    /// The host name agents use to reach the hub's STUN responder; nil = the host of each request's `Host` header.
    public var publicHost: String?
    /// TURN URIs handed out with credentials; empty = no TURN.
    public var turnURLs: [String]
    /// The coturn shared secret; nil = no TURN.
    public var turnSecret: TURNSecret?
    /// How long TURN credentials stay valid, in seconds.
    public var turnLifetime: Int64

    /// Creates a policy.
    public init(stunPort: UInt16? = 3478, publicHost: String? = nil, turnURLs: [String] = [], turnSecret: TURNSecret? = nil,
                turnLifetime: Int64 = 12 * 3600) {
        self.stunPort = stunPort
        self.publicHost = publicHost
        self.turnURLs = turnURLs
        self.turnSecret = turnSecret
        self.turnLifetime = turnLifetime
    }

    /// Whether sessions get TURN credentials (and so need them refreshed).
    public var hasTURN: Bool { turnSecret != nil && !turnURLs.isEmpty }

    /// The servers for the peer `publicKey` that connected with `Host: requestHost`, and when its TURN
    /// credentials expire (nil without TURN). The TURN user name is `<expiry>:<public key>`.
    public func servers(for publicKey: PublicKey, requestHost: String?, now: Int64) -> (ICEServers, expiresAt: Int64?) {
        servers(named: publicKey.base64, lifetime: turnLifetime, requestHost: requestHost, now: now)
    }

    /// The most a token-only request's TURN credentials live, in seconds: enough for `riftgate netcheck` to allocate
    /// at once, short enough that a token holder who never joins does not hold a long relay credential.
    public static let tokenOnlyLifetime: Int64 = 600

    /// The servers for a client of `network` that asked with the network's token alone (`ice_servers`, PROTOCOL.md
    /// §6.12): the TURN user name is `<expiry>:netcheck.<network>` and the credentials live at most
    /// `tokenOnlyLifetime` (less when `turnLifetime` is shorter).
    public func tokenOnlyServers(network: String, requestHost: String?, now: Int64) -> ICEServers {
        servers(named: "netcheck.\(network)", lifetime: min(turnLifetime, Self.tokenOnlyLifetime), requestHost: requestHost, now: now).0
    }

    private func servers(named name: String, lifetime: Int64, requestHost: String?, now: Int64) -> (ICEServers, expiresAt: Int64?) {
        var servers = ICEServers()
        if let stunPort, let host = publicHost ?? requestHost.flatMap(Self.hostPart) {
            servers.stun = ["stun:\(host):\(stunPort)"]
        }
        guard let turnSecret, !turnURLs.isEmpty else { return (servers, nil) }
        let expiresAt = now + lifetime
        let credentials = TURNCredentials.make(secret: turnSecret.text, name: name, expiresAt: expiresAt)
        servers.turn = [TURNServer(urls: turnURLs, username: credentials.username, credential: credentials.credential,
                                   expiresAt: expiresAt)]
        return (servers, expiresAt)
    }

    /// Seconds before expiry at which credentials are refreshed: a third of their lifetime, at least a minute
    /// (or the whole lifetime when it is shorter).
    public var refreshMargin: Int64 { min(turnLifetime, max(60, turnLifetime / 3)) }

    /// The host part of a `Host` header (`name`, `name:port`, `[v6]`, `[v6]:port`), or nil when it is not a
    /// plain DNS name or IP literal — so nothing odd from a client ends up inside a URI.
    static func hostPart(_ header: String) -> String? {
        if header.hasPrefix("[") {
            guard let end = header.firstIndex(of: "]") else { return nil }
            let literal = header[header.index(after: header.startIndex)..<end]
            guard IPv6Address(String(literal)) != nil else { return nil }
            return "[\(literal)]"
        }
        let host = header.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        guard !host.isEmpty, host.utf8.count <= 253, allowed else { return nil }
        return String(host)
    }
}
