import FoundationEssentials
import RiftCrypto
import RiftProtocol
import RiftSupport

/// `riftgate init`, `genkey` and `pubkey`: creating keys and configuration.
public enum AgentSetup {
    /// Writes a new configuration and a secrets file (0600) with a fresh key pair; returns the public key.
    /// `hubs` are one hub or several members of one cluster, tried in this order (one is written as `hub = "…"`).
    /// Refuses to overwrite an existing configuration unless `force` is set.
    public static func initialize(configPath: String, hubs: [String], network: String, token: String, name: String?,
                                  interface: String?, caFile: String?, force: Bool) throws(AgentError) -> PublicKey {
        if FileManager.default.fileExists(atPath: configPath), !force {
            throw AgentError.configuration("\(configPath) already exists; pass --force to replace it (the old key is lost)")
        }
        let bearer: BearerToken
        do { bearer = try BearerToken(text: token.trimmingWhitespaceAndNewlines()) } catch {
            throw AgentError.configuration("that is not a riftgate token (expected rgt_… as printed by `riftgate-hub token create`)")
        }
        let directory = FilePathText.directory(of: configPath)
        let base = directory.isEmpty ? "." : directory
        let interfaceName = interface ?? "riftgate0"
        var configuration = AgentConfiguration(
            hubs: hubs, network: network, name: name ?? Host.shortName, secretsFile: base + "/secrets.toml",
            controlSocket: "/run/riftgate/\(interfaceName).sock")
        configuration.interface = interfaceName
        configuration.caFile = caFile
        try configuration.validate()
        let secrets = AgentSecrets(privateKey: .generate(), token: bearer)
        try secrets.save(path: configuration.secretsFile)
        try SecureFile.write(configuration.tomlText, to: configPath, mode: 0o644)
        return secrets.privateKey.publicKey
    }

    /// A new private key in base64, as `wg genkey` prints it.
    public static func generateKey() -> String { PrivateKey.generate().base64 }

    /// The public key of a base64 private key, as `wg pubkey` prints it.
    public static func publicKey(ofPrivateKey text: String) throws(AgentError) -> String {
        do { return try PrivateKey(base64: text.trimmingWhitespaceAndNewlines()).publicKey.base64 } catch {
            throw AgentError.configuration("not a base64 WireGuard private key")
        }
    }
}
