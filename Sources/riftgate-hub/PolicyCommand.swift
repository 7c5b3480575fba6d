import ArgumentParser
import RiftHub
#if canImport(Glibc)
import Glibc
#endif

/// `riftgate-hub policy set|show|clear|check`.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Manage a network's access policy (who may reach whom, on which ports).",
        discussion: """
            A policy is one rule per line: SOURCE -> DESTINATION[:PORTS], where each side is a tag or *, and PORTS is a \
            comma-separated list such as tcp/22,udp/5000-5010. '#' starts a comment. Without a policy every peer \
            reaches every other; with one, only what a rule names. Peers get tags from the token that admitted them \
            (token create --tag) or from 'peer tag'.
            """,
        subcommands: [Set.self, Show.self, Clear.self, Check.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store a policy file ('-' reads standard input).")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "Policy file, or - for standard input.") var file: String

        func run() throws {
            let text: String
            if file == "-" {
                var lines: [String] = []
                while let line = readLine(strippingNewline: false) { lines.append(line) }
                text = lines.joined()
            } else {
                guard let handle = fopen(file, "r") else { throw ValidationError("cannot open \(file)") }
                defer { fclose(handle) }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = fread(&buffer, 1, buffer.count, handle)
                    if count <= 0 { break }
                    bytes += buffer[0..<count]
                    if bytes.count > 1 << 20 { throw ValidationError("\(file) is larger than 1 MiB") }
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            print(try state.administration().setPolicy(network: network, text: text), terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a network's policy.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().showPolicy(network: network), terminator: "") }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a network's policy: everyone reaches everyone.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().clearPolicy(network: network), terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain whether one peer may reach another (exit status 0: allowed, 1: denied).")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Option(help: "The connecting peer: a name, a public key or tag:NAME.") var from: String
        @Option(help: "The peer connected to: a name, a public key or tag:NAME.") var to: String
        @Option(help: "A port, e.g. tcp/22 (default: anything at all).") var port: String?

        func run() throws {
            let (text, allowed) = try state.administration().checkPolicy(network: network, from: from, to: to, port: port)
            print(text, terminator: "")
            if !allowed { throw ExitCode(1) }
        }
    }
}
