import ArgumentParser
import RiftHub

/// `riftgate-hub token create|list|revoke`.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage the bearer tokens that admit agents to a network.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once and never stored.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Option(help: "Whose token it is, e.g. laptop.") var label: String
        @Option(help: "Lifetime, e.g. 12h or 30d (default: no expiry).") var expires: String?
        @Option(name: .customLong("tag"), help: "A tag the peers it admits get, for the access policy (repeatable).") var tags: [String] = []
        @Option(name: .customLong("max-keys"), help: "Admit at most this many distinct keys (devices); each may rejoin any time.")
        var maximumKeys: Int?
        @Flag(name: .customLong("single-use"), help: "Admit one key only (the same as --max-keys 1).") var singleUse = false
        @Flag(help: "Peers it admits are removed from the network once gone longer than the hub's ephemeral grace (CI runners, containers).")
        var ephemeral = false

        func validate() throws {
            if singleUse, let maximumKeys, maximumKeys != 1 {
                throw ValidationError("--single-use admits one key; it cannot be combined with --max-keys \(maximumKeys)")
            }
        }

        func run() throws {
            let limits = TokenLimits(maximumKeys: singleUse ? 1 : maximumKeys, ephemeral: ephemeral)
            print(try state.administration().createToken(network: network, label: label, expires: expires, tags: tags, limits: limits),
                  terminator: "")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a network's tokens (never their values).")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().listTokens(network: network), terminator: "") }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; sessions that used it are closed.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "Token id, as `token list` shows it.") var id: String

        func run() throws { print(try state.administration().revokeToken(network: network, id: id), terminator: "") }
    }
}
