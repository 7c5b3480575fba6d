import Foundation
import RiftSupport

/// One setting's raw value before it is checked: from a TOML file (typed) or from the environment or a
/// flag (text).
public enum ConfigurationValue: Sendable, Hashable {
    /// A string (every environment variable and most flags).
    case text(String)
    /// A TOML integer.
    case integer(Int)
    /// A TOML boolean, or a flag that is present.
    case boolean(Bool)
    /// A TOML array of strings, or a repeated flag.
    case list([String])
}

/// Merges settings from defaults < TOML file < environment (`RIFTGATE_HUB_<KEY>`) < flags into a
/// `HubConfiguration`.
///
/// Every source uses the same keys (`listen`, `tls_cert`, ..., the TOML names); flags reach this type
/// already mapped to those keys. Unknown keys in the file are errors (a typo should not be ignored);
/// unknown `RIFTGATE_HUB_*` variables are ignored.
public struct ConfigurationLayers: Sendable {
    /// The keys this version understands.
    public static let keys: Set<String> = [
        "listen", "tls_cert", "tls_key", "state_dir", "database", "stun_port", "stun_host", "stun_alt_port", "no_stun", "turn_secret_file", "turn_urls",
        "turn_ttl", "turn_check_interval", "public_host", "admin_listen", "trusted_proxies", "ping_interval", "pong_timeout", "ephemeral_grace", "log_level",
        "nats", "hub_id", "nats_ca_file", "nats_credentials_file",
    ]
    /// The environment variable prefix.
    public static let environmentPrefix = "RIFTGATE_HUB_"

    private var layers: [(source: String, values: [String: ConfigurationValue])] = []

    /// No settings: everything at its default.
    public init() {}

    /// Adds the settings of the TOML file at `path`. Fails when it cannot be read or parsed, or has an
    /// unknown key or a value of an unusable type.
    public mutating func addFile(_ path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read config file \(path): \(error.localizedDescription)")
        }
        try addTOML(text, path: path)
    }

    /// Adds the settings of `text`, the contents of the TOML file at `path` (used only to name it in errors).
    /// Fails when it does not parse, or has an unknown key or a value of an unusable type.
    mutating func addTOML(_ text: String, path: String) throws(ConfigurationError) {
        let table: FlatTOML.Document
        do {
            table = try FlatTOML.parse(text)
        } catch {
            throw ConfigurationError("config file \(path): \(error)")
        }
        var values: [String: ConfigurationValue] = [:]
        for key in table.keys {
            guard Self.keys.contains(key) else { throw ConfigurationError("config file \(path): unknown setting \"\(key)\"") }
            guard let value = table[key] else { continue }
            switch value {
            case .string(let text): values[key] = .text(text)
            case .integer(let number): values[key] = .integer(number)
            case .boolean(let flag): values[key] = .boolean(flag)
            case .array:
                guard let strings = value.strings else { throw ConfigurationError("config file \(path): \(key) must be a list of strings") }
                values[key] = .list(strings)
            }
        }
        layers.append(("config file \(path)", values))
    }

    /// Adds `RIFTGATE_HUB_<KEY>` variables from `environment`.
    public mutating func addEnvironment(_ environment: [String: String]) {
        var values: [String: ConfigurationValue] = [:]
        for (name, value) in environment where name.hasPrefix(Self.environmentPrefix) {
            let key = name.dropFirst(Self.environmentPrefix.count).lowercased()
            if Self.keys.contains(key) { values[key] = .text(value) }
        }
        layers.append(("environment", values))
    }

    /// Adds settings given as command-line flags.
    public mutating func addFlags(_ values: [String: ConfigurationValue]) {
        layers.append(("command line", values))
    }

    /// The value of `key` from the highest-precedence source that sets it, with that source's name.
    func value(_ key: String) -> (ConfigurationValue, source: String)? {
        for layer in layers.reversed() { if let value = layer.values[key] { return (value, layer.source) } }
        return nil
    }
}

extension ConfigurationLayers {
    /// The configuration from `flags` > environment > config file > defaults. The config file is
    /// `configFile`, else `$RIFTGATE_HUB_CONFIG`, else none.
    public static func load(configFile: String?, flags: [String: ConfigurationValue],
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> HubConfiguration {
        var layers = ConfigurationLayers()
        if let path = configFile ?? environment[environmentPrefix + "CONFIG"] { try layers.addFile(path) }
        layers.addEnvironment(environment)
        layers.addFlags(flags)
        return try layers.resolve()
    }
}
