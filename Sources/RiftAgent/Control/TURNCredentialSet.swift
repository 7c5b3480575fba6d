import FoundationEssentials
import RiftProtocol

/// The TURN servers and credentials a running agent holds (from the hub's `welcome` or `ice_servers`), as its control
/// socket hands them to `riftgate netcheck`. Only root and the agent's own user may ask (`ControlServer`), as for
/// `down`: a credential lets its holder use the relay until it expires. `description` never shows the credential.
public struct TURNCredentialSet: Codable, Sendable, Equatable, CustomStringConvertible {
    /// RFC 7065 URIs (`turn:host:port?transport=udp`, `turns:…`).
    public var urls: [String]
    /// The time-limited user name (`expiry:public key`).
    public var username: String
    /// The password the hub derived from coturn's shared secret.
    public var credential: String
    /// When the credential stops working, in seconds since the Unix epoch.
    public var expiresAt: Int64

    /// The set for one TURN entry of the hub's ICE servers.
    public init(_ server: TURNServer) {
        urls = server.urls
        username = server.username
        credential = server.credential
        expiresAt = server.expiresAt
    }

    public var description: String { "TURNCredentialSet(\(urls.joined(separator: " ")), user \(username), credential redacted)" }

    enum CodingKeys: String, CodingKey {
        case urls, username, credential
        case expiresAt = "expires_at"
    }

    /// The control socket's `turn` reply: `{"turn": [set...]}`.
    struct Reply: Codable {
        var turn: [TURNCredentialSet]
    }
}
