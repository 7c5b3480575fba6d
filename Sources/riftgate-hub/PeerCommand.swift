import ArgumentParser
import RiftHub

/// `riftgate-hub peer list|revoke`.
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Inspect and revoke peers.", subcommands: [List.self, Revoke.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a network's peers with their addresses.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().listPeers(network: network), terminator: "") }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a peer's key; its session is closed and it cannot rejoin.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's WireGuard public key.") var publicKey: String

        func run() throws { print(try state.administration().revokePeer(network: network, publicKey: publicKey), terminator: "") }
    }
}
