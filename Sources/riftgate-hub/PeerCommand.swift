import ArgumentParser
import RiftHub

/// `riftgate-hub peer list|revoke`.
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Inspect, tag and revoke peers.", subcommands: [List.self, Tag.self, Revoke.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a network's peers with their addresses.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().listPeers(network: network), terminator: "") }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a peer's tags (none given: no tags); the hub applies them within seconds.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's name or WireGuard public key.") var peer: String
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []

        func run() throws { print(try state.administration().tagPeer(network: network, peer: peer, tags: tags), terminator: "") }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a peer's key; its session is closed and it cannot rejoin.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's WireGuard public key.") var publicKey: String

        func run() throws { print(try state.administration().revokePeer(network: network, publicKey: publicKey), terminator: "") }
    }
}
