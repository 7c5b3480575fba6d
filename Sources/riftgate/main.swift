import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import RiftAgent
import RiftProtocol
import RiftSupport

/// The riftgate agent's command line: argument parsing only; the behaviour lives in RiftAgent.
@main
struct Riftgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riftgate",
        abstract: "Join a riftgate mesh: WireGuard tunnels to every peer, negotiated with ICE through a hub.",
        subcommands: [Init.self, Up.self, Down.self, Status.self, Ping.self, Netcheck.self, GenKey.self, PubKey.self,
                      Cleanup.self])
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file.")
    var config: String = ProcessInfo.processInfo.environment["RIFTGATE_CONFIG"] ?? AgentConfiguration.defaultPath
}

/// Writes `bytes` to standard error as they are, unbuffered (a write error is ignored: there is nowhere to report it).
func writeStandardError(_ bytes: some Collection<UInt8>) {
    try? SystemCall.writeAll(STDERR_FILENO, bytes)
}

/// Writes `bytes` to standard output, unbuffered (before anything `print` still holds in its buffer).
func writeStandardOutput(_ bytes: some Collection<UInt8>) {
    try? SystemCall.writeAll(STDOUT_FILENO, bytes)
}

/// Prints the error and exits with its status.
func fail(_ error: AgentError) -> Never {
    writeStandardError("riftgate: \(error)\n".utf8)
    exit(error.exitCode)
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a key pair and a configuration for one network.")
    @OptionGroup var options: ConfigOption
    @Option(help: "Hub URL, e.g. wss://hub.example.org:443; repeat it for the members of a hub cluster (--hub wss://a --hub wss://b), which the agent tries in turn.")
    var hub: [String] = []
    @Option(help: "Network name on the hub.") var network: String
    @Option(help: "Network token from `riftgate-hub token create` (or - to read it from standard input).") var token: String
    @Option(help: "This machine's name in the network (default: host name).") var name: String?
    @Option(help: "WireGuard interface name.") var interface: String?
    @Option(help: "CA certificate file to verify the hub with (default: system trust store).") var caFile: String?
    @Flag(help: "Replace an existing configuration and key.") var force = false

    func validate() throws {
        if hub.isEmpty { throw ValidationError("give the hub's URL: --hub wss://hub.example.org:443") }
    }

    func run() {
        if token != "-" {
            writeStandardError("""
                warning: a token given as an argument is visible to every local user in the process list \
                (/proc/PID/cmdline); prefer --token - and paste it or pipe it in

                """.utf8)
        }
        let tokenText = token == "-" ? (readLine() ?? "") : token
        do {
            let key = try AgentSetup.initialize(configPath: options.config, hubs: hub, network: network, token: tokenText, name: name,
                                                interface: interface, caFile: caFile, force: force)
            print("wrote \(options.config); public key \(key)")
        } catch { fail(error) }
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Join the network and keep the tunnels up until stopped.")
    @OptionGroup var options: ConfigOption
    @Flag(help: "Log debug detail.") var verbose = false
    @Option(help: "Write per-peer metrics to this file every 5 s, for node_exporter's textfile collector (e.g. /var/lib/prometheus/node-exporter/riftgate.prom).")
    var metricsTextfile: String?
    @Flag(name: .customLong("no-dns"), help: "Do not answer DNS for the network's names on the overlay addresses (same as dns = false in the file).")
    var noDNS = false
    @Option(help: "How to register the network's names with this host: auto (systemd-resolved if it serves this host, else the hosts file), resolved, hosts or off (default: the configuration's names, else auto).")
    var names: String?
    @Option(help: "The hosts file for --names hosts (default: the configuration's hosts_file, else /etc/hosts).")
    var hostsFile: String?
    @Option(help: "Subnet routes to offer the network, comma-separated CIDRs (e.g. 192.168.1.0/24,fd00:1::/64); an admin approves them on the hub (default: the configuration's advertise_routes).")
    var advertiseRoutes: String?
    @Flag(help: "Install the subnet routes other peers advertise and an admin approved (same as accept_routes = true).")
    var acceptRoutes = false
    @Flag(name: .customLong("no-masquerade"), help: "Do not masquerade overlay traffic to the advertised routes; the LAN then needs a route back to the overlay (same as masquerade = false).")
    var noMasquerade = false
    @Flag(help: "Offer this machine as an exit node: approved peers that choose it send all their traffic through it (same as advertise_exit_node = true).")
    var advertiseExitNode = false
    @Option(help: "Send all traffic through this peer (its name or DNS label, any case) while it is present and approved as an exit node; \"\" or none for no exit node (default: the configuration's exit_node).")
    var exitNode: String?

    func run() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        do throws(AgentError) {
            var configuration = try AgentConfiguration.load(path: options.config)
            configuration.metricsTextfile = metricsTextfile
            if noDNS { configuration.dns = false }
            if let names {
                guard let mode = NameRegistrationMode(rawValue: names) else {
                    throw AgentError.configuration("--names must be auto, resolved, hosts or off")
                }
                configuration.names = mode
            }
            if let hostsFile { configuration.hostsFile = hostsFile }
            if let advertiseRoutes {
                let texts = advertiseRoutes.split(separator: ",").map { $0.trimmingWhitespace() }
                configuration.advertiseRoutes = try SubnetRoute.validated(texts, setting: "--advertise-routes")
            }
            if acceptRoutes { configuration.acceptRoutes = true }
            if noMasquerade { configuration.masquerade = false }
            if advertiseExitNode { configuration.advertiseExitNode = true }
            if let exitNode { configuration.exitNode = exitNode.isEmpty || exitNode.lowercased() == "none" ? nil : exitNode }
            try configuration.validate()
            let secrets = try AgentSecrets.load(path: configuration.secretsFile)
            try await AgentRuntime(configuration: configuration, secrets: secrets, logger: Logger(label: "riftgate")).run()
        } catch { fail(error) }
    }
}

struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the exit-node routing rules an agent that did not stop cleanly left (the systemd unit runs it after every stop).")

    func run() {
        let removed = ExitRouting.removeStale()
        if removed > 0 { print("riftgate: removed \(removed) exit-node routing rule(s)") }
    }
}

struct Down: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the running agent (removes its interface).")
    @OptionGroup var options: ConfigOption

    func run() {
        do {
            let configuration = try AgentConfiguration.load(path: options.config)
            _ = try ControlClient.request("down", socketPath: configuration.controlSocket)
            print("riftgate: stopping")
        } catch { fail(error) }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the hub connection and every peer's path.")
    @OptionGroup var options: ConfigOption
    @Flag(help: "Print JSON (schema: docs/troubleshooting.md, \"Reading status\").") var json = false
    @Flag(name: .shortAndLong, help: "The long form: keys, candidate pairs, endpoints, recovery reasons.") var verbose = false

    func run() {
        do {
            let configuration = try AgentConfiguration.load(path: options.config)
            if json {
                let data = try ControlClient.request("status", socketPath: configuration.controlSocket)
                writeStandardOutput(data)
            } else {
                let status = try ControlClient.status(socketPath: configuration.controlSocket)
                print(verbose ? status.text : status.compactText)
            }
        } catch { fail(error) }
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ping a peer through the tunnel (ICMP echo) and say which path answered: direct, server-reflexive or relayed.")
    @OptionGroup var options: ConfigOption
    @Argument(help: "The peer's name or overlay address.") var peer: String
    @Option(help: "Echoes to send, one a second.") var count = 1
    @Option(help: "Seconds to wait for each reply.") var timeout = 2.0
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() {
        do {
            let configuration = try AgentConfiguration.load(path: options.config)
            var ping = PeerPing(socketPath: configuration.controlSocket, target: peer)
            ping.count = count
            ping.timeout = timeout
            let report = try ping.run()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                writeStandardOutput((try? encoder.encode(report)) ?? Data())
                print()
            } else {
                print(report.text)
            }
            if !report.answered { Glibc.exit(1) }
        } catch { fail(error) }
    }
}

struct Netcheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report what this machine's network allows (UDP, NAT mapping, latency to the hub, TURN) without joining.",
        discussion: """
            TURN is checked with the network's own credentials: a real authenticated allocation per TURN server, over \
            UDP and TCP (TLS is not probed). With --token-file (or --token -) netcheck asks the hub for them with the \
            network's token, without joining (no key, no address, no use of a single-use token); the hub URL and \
            network come from the configuration file or --hub URL --network NAME. Without a token it reads them from \
            the running agent of the configuration (root or the agent's user only); without either, TURN is reported \
            as not checked. Exit status 0 whatever the network allows, 77 when the hub refused the token (the report \
            is printed first); see docs/troubleshooting.md, "riftgate netcheck".
            """)
    @OptionGroup var options: ConfigOption
    @Option(help: "Hub URL or host (default: the first hub of the configuration file). With a token: the URL, ws:// or wss://.")
    var hub: String?
    @Option(help: "Network name on the hub, for --token-file (default: the network of the configuration file).") var network: String?
    @Option(name: .customLong("token-file"), help: "Check TURN with credentials the hub gives to this network token (a file holding it).")
    var tokenFile: String?
    @Option(help: "Like --token-file; - reads the token from standard input.") var token: String?
    @Option(help: "CA certificate file to verify the hub with, for --token-file (default: the configuration's, else the system trust store).")
    var caFile: String?
    @Option(name: .customLong("stun-port"), help: "The hub's STUN port.") var stunPort: UInt16 = 3478
    @Option(name: .customLong("stun-alt-port"), help: "The hub's second STUN port (riftgate-hub --stun-alt-port).") var stunAltPort: UInt16 = 3479
    @Flag(name: .customLong("no-turn"), help: "Do not check TURN, even when the agent is running or a token is given.") var noTURN = false
    @Flag(help: "Print JSON (schema: docs/troubleshooting.md).") var json = false

    func validate() throws {
        if tokenFile != nil && token != nil { throw ValidationError("give --token-file or --token, not both") }
    }

    func run() async {
        let configured = try? AgentConfiguration.load(path: options.config)
        var refusal: (code: String, message: String)?
        do {
            let url: String
            if let hub { url = hub } else { url = try AgentConfiguration.load(path: options.config).hub }
            var check = try NetworkCheck(hubURL: url)
            check.stunPort = stunPort
            check.alternatePort = stunAltPort
            if noTURN {
                check.turnNotChecked = "--no-turn"
            } else if let tokenText = try readToken() {
                let request = try NetcheckTokenRequest.make(hub: url, network: network, token: tokenText, caFile: caFile,
                                                            configuration: configured)
                refusal = await check.takeTURNCredentials(from: request)
            } else {
                check.takeTURNCredentials(fromAgentOf: options.config)
            }
            let report = check.run()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                writeStandardOutput((try? encoder.encode(report)) ?? Data())
                print()
            } else {
                print(report.text)
            }
        } catch { fail(error) }
        if let refusal {
            writeStandardError("riftgate: the hub refused the token (\(refusal.code)): \(refusal.message)\n".utf8)
            Glibc.exit(AgentError.permanentRefusal(code: refusal.code, message: refusal.message).exitCode)
        }
    }

    /// The token of --token-file or --token, nil when neither is given.
    private func readToken() throws(AgentError) -> String? {
        if let tokenFile {
            do { return try String(contentsOfFile: tokenFile, encoding: .utf8) } catch {
                throw .configuration("cannot read the token file \(tokenFile): \(FileErrorReason.text(error))")
            }
        }
        guard let token else { return nil }
        if token != "-" {
            writeStandardError("""
                warning: a token given as an argument is visible to every local user in the process list \
                (/proc/PID/cmdline); prefer --token-file or --token - and paste it or pipe it in

                """.utf8)
        }
        return token == "-" ? (readLine() ?? "") : token
    }
}

struct GenKey: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "genkey", abstract: "Print a new private key (like `wg genkey`).")
    func run() { print(AgentSetup.generateKey()) }
}

struct PubKey: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pubkey", abstract: "Read a private key on standard input; print its public key (like `wg pubkey`).")
    func run() {
        do { print(try AgentSetup.publicKey(ofPrivateKey: readLine() ?? "")) } catch { fail(error) }
    }
}
