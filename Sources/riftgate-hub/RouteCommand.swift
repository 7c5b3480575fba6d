import ArgumentParser
import RiftHub

/// `riftgate-hub route list|approve|revoke`: subnet routes and exit nodes peers advertise, which reach the other peers
/// only once approved (PROTOCOL.md §6.14, §6.15). An exit node is the route `exit-node`.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "List, approve and revoke the subnet routes and exit nodes peers advertise.",
        subcommands: [List.self, Approve.self, Revoke.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a network's advertised and approved routes and exit nodes.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String

        func run() throws { print(try state.administration().listRoutes(network: network), terminator: "") }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a route a peer advertises, or the peer as an exit node; the other peers learn it within about a second.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's name, WireGuard public key or a unique prefix of it.") var peer: String
        @Argument(help: "The route, e.g. 192.168.1.0/24, or exit-node.") var route: String

        func run() throws { print(try state.administration().approveRoute(network: network, peer: peer, route: route), terminator: "") }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a route's or an exit node's approval; the other peers drop it within about a second.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Network name.") var network: String
        @Argument(help: "The peer's name, WireGuard public key or a unique prefix of it.") var peer: String
        @Argument(help: "The route, e.g. 192.168.1.0/24, or exit-node.") var route: String

        func run() throws { print(try state.administration().revokeRoute(network: network, peer: peer, route: route), terminator: "") }
    }
}
