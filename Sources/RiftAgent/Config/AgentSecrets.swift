import FoundationEssentials
import RiftCrypto
import RiftSupport

/// The agent's secrets: its WireGuard private key and the network's bearer token.
///
/// Stored in a TOML file that only its owner may read. Loading refuses a file that group or others can read,
/// as ssh does with private keys. `description` never prints either secret.
public struct AgentSecrets: Sendable, CustomStringConvertible {
    /// The WireGuard private key, which is also the agent's identity.
    public var privateKey: PrivateKey
    /// The network bearer token.
    public var token: BearerToken

    /// Wraps the two secrets.
    public init(privateKey: PrivateKey, token: BearerToken) {
        self.privateKey = privateKey
        self.token = token
    }

    public var description: String { "AgentSecrets(public key \(privateKey.publicKey), token redacted)" }

    /// Reads the secrets file; fails if it is missing, malformed, or readable by group or others.
    public static func load(path: String) throws(AgentError) -> AgentSecrets {
        try SecureFile.checkPrivate(path)
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw AgentError.configuration("cannot read \(path): \(FileErrorReason.text(error))")
        }
        let table: FlatTOML.Document
        do { table = try FlatTOML.parse(text) } catch {
            throw AgentError.configuration("\(path) is not valid riftgate TOML: \(error)")
        }
        guard let key = table["private_key"]?.string, let token = table["token"]?.string else {
            throw AgentError.configuration("\(path) needs private_key and token")
        }
        do {
            return AgentSecrets(privateKey: try PrivateKey(base64: key), token: try BearerToken(text: token))
        } catch {
            throw AgentError.configuration("\(path): \(error)")
        }
    }

    /// Writes the secrets file with mode 0600, atomically (write to a temporary file, then rename).
    public func save(path: String) throws(AgentError) {
        let text = """
            # riftgate secrets: keep this file private (mode 0600).
            private_key = \(quoted(privateKey.base64))
            token = \(quoted(token.revealedText))

            """
        try SecureFile.write(text, to: path, mode: 0o600)
    }
}
