import FoundationEssentials
import RiftProtocol
import RiftSupport

/// The agent's settings, read from a TOML file (default `/etc/riftgate/riftgate.toml`).
///
/// Secrets are not here: they live in `secretsFile`, which must be readable by its owner only.
public struct AgentConfiguration: Sendable, Equatable {
    /// The hubs' base URLs, `wss://host:port` (or `ws://` for local use), in the order the agent tries them: one hub,
    /// or several members of one hub cluster (`hub = ["wss://a", "wss://b"]`, `riftgate init --hub A --hub B`). The agent
    /// moves to the next one when its hub is lost or cannot be reached (`HubRotation`).
    public var hubs: [String]
    /// The network to join.
    public var network: String
    /// This machine's name in the network.
    public var name: String
    /// The WireGuard interface to create.
    public var interface = "riftgate0"
    /// WireGuard's UDP listen port; 0 lets WireGuard choose.
    public var listenPort: UInt16 = 0
    /// The interface MTU. 1380 leaves room for WireGuard (60 bytes over IPv4, 80 over IPv6) and TURN framing (36).
    public var mtu = 1380
    /// A CA bundle to verify the hub's certificate with, instead of the system trust store.
    public var caFile: String?
    /// The file holding the private key and the network token (mode 0600).
    public var secretsFile: String
    /// The control socket `riftgate status` and `riftgate down` talk to.
    public var controlSocket: String
    /// The group allowed to use the control socket besides root (if it exists).
    public var controlGroup = "riftgate"
    /// The wireguard-go binary, when the kernel has no WireGuard.
    public var wireguardGo = AgentConfiguration.defaultWireGuardGo
    /// Whether the agent answers DNS for the network's names on its overlay addresses (`dns = false` or
    /// `riftgate up --no-dns` turns it off).
    public var dns = true
    /// How the network's names are registered with the host (`names`; `riftgate up --names`).
    public var names = NameRegistrationMode.auto
    /// The hosts file the hosts strategy edits (`hosts_file`; `riftgate up --hosts-file`).
    public var hostsFile = AgentConfiguration.defaultHostsFile
    /// Where `riftgate up --metrics-textfile` writes metrics for node_exporter's textfile collector; nil = nowhere.
    public var metricsTextfile: String?
    /// The subnet routes this machine offers to route for its peers (`advertise_routes`; `riftgate up
    /// --advertise-routes`); an admin must approve each on the hub before any peer installs it.
    public var advertiseRoutes: [SubnetRoute] = []
    /// Whether to install the peers' approved subnet routes (`accept_routes`; `riftgate up --accept-routes`).
    public var acceptRoutes = false
    /// Whether overlay traffic to the advertised routes is masqueraded, so the LAN needs no route back to the overlay
    /// (`masquerade`; `riftgate up --no-masquerade` turns it off).
    public var masquerade = true
    /// Whether this machine offers itself as an exit node (`advertise_exit_node`; `riftgate up --advertise-exit-node`);
    /// an admin approves it on the hub (`riftgate-hub route approve <network> <peer> exit-node`).
    public var advertiseExitNode = false
    /// The peer to send all traffic through (`exit_node`; `riftgate up --exit-node <peer>`): its DNS label (the first
    /// label of `PeerInfo.dns_name`) or its name, matched case-insensitively; nil = none.
    public var exitNode: String?

    /// The wireguard-go binary looked up in `PATH` unless the file names another.
    public static let defaultWireGuardGo = "wireguard-go"

    /// The hosts file unless the configuration names another.
    public static let defaultHostsFile = "/etc/hosts"

    /// The default configuration path.
    public static let defaultPath = "/etc/riftgate/riftgate.toml"

    /// Creates a configuration with defaults for everything but the essentials.
    public init(hub: String, network: String, name: String, secretsFile: String, controlSocket: String? = nil) {
        self.init(hubs: [hub], network: network, name: name, secretsFile: secretsFile, controlSocket: controlSocket)
    }

    /// Creates a configuration for several hubs (members of one cluster), tried in this order.
    public init(hubs: [String], network: String, name: String, secretsFile: String, controlSocket: String? = nil) {
        self.hubs = hubs
        self.network = network
        self.name = name
        self.secretsFile = secretsFile
        self.controlSocket = controlSocket ?? "/run/riftgate/riftgate0.sock"
    }

    static let knownKeys: Set<String> = [
        "hub", "network", "name", "interface", "listen_port", "mtu", "ca_file", "secrets_file", "control_socket",
        "control_group", "wireguard_go", "names", "hosts_file", "dns", "advertise_routes", "accept_routes", "masquerade",
        "advertise_exit_node", "exit_node",
    ]

    /// Reads and validates a configuration file; fails with a message naming the file and the offending key.
    public static func load(path: String) throws(AgentError) -> AgentConfiguration {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw AgentError.configuration("cannot read \(path): \(FileErrorReason.text(error)). Run `riftgate init` first.")
        }
        return try parse(text, path: path)
    }

    /// Reads and validates `text`, the contents of the configuration file at `path` (used only to name it in errors).
    static func parse(_ text: String, path: String) throws(AgentError) -> AgentConfiguration {
        let table: FlatTOML.Document
        do { table = try FlatTOML.parse(text) } catch {
            throw AgentError.configuration("\(path) is not valid riftgate TOML: \(error)")
        }
        if let unknown = table.keys.sorted().first(where: { !knownKeys.contains($0) }) {
            throw AgentError.configuration("\(path): unknown setting \"\(unknown)\"")
        }
        func string(_ key: String) throws(AgentError) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else { throw AgentError.configuration("\(path): \(key) must be a string") }
            return text
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(AgentError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let number = value.int, range.contains(number) else {
                throw AgentError.configuration("\(path): \(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        guard let hubs = try hubList(table["hub"], path: path), let network = try string("network"),
              let secrets = try string("secrets_file") else {
            throw AgentError.configuration("\(path) needs hub, network and secrets_file")
        }
        var configuration = AgentConfiguration(hubs: hubs, network: network, name: try string("name") ?? Host.shortName,
                                               secretsFile: secrets, controlSocket: try string("control_socket"))
        configuration.interface = try string("interface") ?? configuration.interface
        configuration.listenPort = UInt16(try integer("listen_port", 0...65535) ?? 0)
        configuration.mtu = try integer("mtu", 1280...9000) ?? configuration.mtu
        configuration.caFile = try string("ca_file").flatMap { $0.isEmpty ? nil : $0 }
        configuration.controlGroup = try string("control_group") ?? configuration.controlGroup
        configuration.wireguardGo = try string("wireguard_go") ?? configuration.wireguardGo
        func flag(_ key: String) throws(AgentError) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let flag = value.bool else { throw AgentError.configuration("\(path): \(key) must be true or false") }
            return flag
        }
        configuration.dns = try flag("dns") ?? configuration.dns
        configuration.acceptRoutes = try flag("accept_routes") ?? configuration.acceptRoutes
        configuration.masquerade = try flag("masquerade") ?? configuration.masquerade
        configuration.advertiseExitNode = try flag("advertise_exit_node") ?? configuration.advertiseExitNode
        configuration.exitNode = try string("exit_node").flatMap { $0.isEmpty ? nil : $0 }
        if let value = table["advertise_routes"] {
            guard let texts = value.strings else {
                throw AgentError.configuration("\(path): advertise_routes must be a list of CIDR strings, e.g. [\"192.168.1.0/24\"]")
            }
            configuration.advertiseRoutes = try SubnetRoute.validated(texts, setting: "\(path): advertise_routes")
        }
        if let names = try string("names") {
            guard let mode = NameRegistrationMode(rawValue: names) else {
                throw AgentError.configuration("\(path): names must be one of \(NameRegistrationMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            configuration.names = mode
        }
        configuration.hostsFile = try string("hosts_file") ?? configuration.hostsFile
        try configuration.validate()
        return configuration
    }

    /// `hub`: one URL (`hub = "wss://a"`) or a list of them (`hub = ["wss://a", "wss://b"]`); nil when absent.
    private static func hubList(_ value: FlatTOML.Value?, path: String) throws(AgentError) -> [String]? {
        guard let value else { return nil }
        if let text = value.string { return [text] }
        let shape = "\(path): hub must be a URL string or a list of them, e.g. [\"wss://hub1.example.org\", \"wss://hub2.example.org\"]"
        guard let hubs = value.strings, !hubs.isEmpty else { throw AgentError.configuration(shape) }
        return hubs
    }

    /// The first hub: the one `riftgate netcheck` checks by default.
    public var hub: String { hubs.first ?? "" }

    /// The registration strategy to use: `names`, except that without the agent's resolver (`dns = false`) `auto`
    /// means the hosts file, since systemd-resolved would be pointed at a resolver that does not answer.
    public var namesWithoutResolver: NameRegistrationMode { !dns && names == .auto ? .hosts : names }

    /// Checks values that TOML types cannot express.
    public func validate() throws(AgentError) {
        guard dns || names != .resolved else {
            throw AgentError.configuration("names = \"resolved\" points systemd-resolved at the agent's resolver, which dns = false (--no-dns) turns off; use names = \"hosts\" or \"off\"")
        }
        try Self.validate(hubs: hubs)
        guard Names.isValidNetworkName(network) else {
            throw AgentError.configuration("network \"\(network)\" is not a valid name (a-z, 0-9, '-')")
        }
        guard Names.isValidPeerName(name) else { throw AgentError.configuration("name must be 1-63 printable characters") }
        if let exitNode {
            guard !advertiseExitNode else {
                throw AgentError.configuration("exit_node = \(quoted(exitNode)) and advertise_exit_node = true: a machine cannot send its traffic through an exit node and be one; choose one (--exit-node or --advertise-exit-node)")
            }
            guard Names.isValidPeerName(exitNode) else {
                throw AgentError.configuration("exit_node must be a peer's name or DNS label (1-63 printable characters), got \(quoted(exitNode))")
            }
        }
        guard hostsFile.hasPrefix("/") else { throw AgentError.configuration("hosts_file must be an absolute path") }
        guard !interface.isEmpty, interface.utf8.count <= 15, interface.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw AgentError.configuration("interface must be 1-15 letters, digits, '-' or '_'")
        }
    }

    /// Checks the hub list: at least one, each a `wss://` (or `ws://`) URL, none twice; errors name the bad entry.
    static func validate(hubs: [String]) throws(AgentError) {
        guard !hubs.isEmpty else { throw AgentError.configuration("at least one hub URL is needed") }
        var seen: Set<String> = []
        for hub in hubs {
            guard hub.hasPrefix("wss://") || hub.hasPrefix("ws://") else {
                throw AgentError.configuration("hub must start with wss:// (or ws:// for local use), got \(quoted(hub))")
            }
            guard ICEServerList.hubHost(hub) != nil else {
                throw AgentError.configuration("hub \(quoted(hub)) is not a URL the agent can connect to (wss://host[:port])")
            }
            guard seen.insert(baseURL(hub).lowercased()).inserted else {
                throw AgentError.configuration("hub \(quoted(hub)) is listed twice")
            }
        }
    }

    /// The configuration as TOML text, for `riftgate init`.
    public var tomlText: String {
        var lines = [
            "# riftgate agent configuration (written by `riftgate init`)",
            "hub = " + (hubs.count == 1 ? quoted(hub) : "[\(hubs.map(quoted).joined(separator: ", "))]"),
            "network = \(quoted(network))",
            "name = \(quoted(name))",
            "interface = \(quoted(interface))",
            "listen_port = \(listenPort)",
            "mtu = \(mtu)",
            "secrets_file = \(quoted(secretsFile))",
            "control_socket = \(quoted(controlSocket))",
            "control_group = \(quoted(controlGroup))",
        ]
        if let caFile { lines.append("ca_file = \(quoted(caFile))") }
        // Written only when set, so that a config rewritten by `riftgate init --force` keeps a custom wireguard-go.
        if !dns { lines.append("dns = false") }
        if wireguardGo != AgentConfiguration.defaultWireGuardGo { lines.append("wireguard_go = \(quoted(wireguardGo))") }
        if names != .auto { lines.append("names = \(quoted(names.rawValue))") }
        if hostsFile != AgentConfiguration.defaultHostsFile { lines.append("hosts_file = \(quoted(hostsFile))") }
        if !advertiseRoutes.isEmpty {
            lines.append("advertise_routes = [\(advertiseRoutes.map { quoted($0.description) }.joined(separator: ", "))]")
        }
        if acceptRoutes { lines.append("accept_routes = true") }
        if !masquerade { lines.append("masquerade = false") }
        if advertiseExitNode { lines.append("advertise_exit_node = true") }
        if let exitNode { lines.append("exit_node = \(quoted(exitNode))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The WebSocket URL of this network on the first hub.
    public var hubURL: String { hubURL(hub) }

    /// The WebSocket URLs of this network on every hub, in the configured order.
    public var hubURLs: [String] { hubs.map(hubURL) }

    /// The WebSocket URL of this network on `hub`, one of `hubs`.
    public func hubURL(_ hub: String) -> String { Self.baseURL(hub) + ProtocolVersion.pathPrefix + network }

    /// `hub` without trailing slashes.
    static func baseURL(_ hub: String) -> String {
        var base = hub
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// A TOML basic string literal.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u" + hexadecimal(scalar.value, digits: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `value` in upper-case hexadecimal, zero-padded to `digits`.
private func hexadecimal(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// The machine's host name without its domain.
enum Host {
    static var shortName: String {
        let name = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "riftgate"
        return Names.isValidPeerName(name) ? name : "riftgate"
    }
}
