import ArgumentParser
import RiftHub

/// `riftgate-hub network create|list|delete`.
struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks.", subcommands: [Create.self, List.self, Configure.self, Delete.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a network.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name: 1-63 characters of a-z, 0-9 and '-'.") var name: String
        @Option(name: .customLong("ipv4-prefix"), help: "IPv4 overlay prefix (default 100.64.0.0/10).") var ipv4Prefix: String?
        @Option(name: .customLong("ipv6-prefix"), help: "IPv6 ULA prefix, /64 or shorter (default: a random fdXX:XXXX:XXXX::/64).") var ipv6Prefix: String?
        @Option(name: .customLong("max-peers"), help: "Most peers the network may hold (default 1024).") var maxPeers: Int?
        @Option(name: .customLong("dns-suffix"), help: "Peers are named <peer>.<network>.<suffix> (default rift).") var dnsSuffix: String?

        func run() throws {
            print(try state.administration().createNetwork(name: name, ipv4Prefix: ipv4Prefix, ipv6Prefix: ipv6Prefix,
                                                           maximumPeers: maxPeers, dnsSuffix: dnsSuffix), terminator: "")
        }
    }

    struct Configure: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a network's settings.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var name: String
        @Option(name: .customLong("dns-suffix"), help: "Peers are named <peer>.<network>.<suffix>, e.g. rift or vpn.example.org.") var dnsSuffix: String

        func run() throws { print(try state.administration().setDNSSuffix(network: name, suffix: dnsSuffix), terminator: "") }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List networks.")
        @OptionGroup var state: StateOptions

        func run() throws { print(try state.administration().listNetworks(), terminator: "") }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a network with its tokens and peers; its sessions are closed.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var name: String

        func run() throws { print(try state.administration().deleteNetwork(name: name), terminator: "") }
    }
}
