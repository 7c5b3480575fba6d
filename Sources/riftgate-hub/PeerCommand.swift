import ArgumentParser
import RiftHub

/// `riftgate-hub peer list|tag|rename|revoke`.
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Inspect, tag, rename and revoke peers.", subcommands: [List.self, Tag.self, Rename.self, Revoke.self])

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

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a peer a name (and DNS name) that its agent cannot change; the other peers learn it within about a second.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's name, WireGuard public key or a unique prefix of it.") var peer: String
        @Argument(help: "The new display name.") var name: String
        @Option(name: .customLong("dns-name"), help: "The DNS label to give it (refused if taken); default: derived from the name, numbered if taken.")
        var dnsName: String?

        func run() throws {
            print(try state.administration().renamePeer(network: network, peer: peer, name: name, dnsName: dnsName), terminator: "")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a peer's key; its session is closed and it cannot rejoin.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's WireGuard public key.") var publicKey: String

        func run() throws { print(try state.administration().revokePeer(network: network, publicKey: publicKey), terminator: "") }
    }
}
