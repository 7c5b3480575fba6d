import ArgumentParser
import RiftHub

/// `riftgate-hub`: the rendezvous server of a riftgate mesh, and its administration.
@main
struct RiftgateHub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riftgate-hub",
        abstract: "The riftgate rendezvous hub: authenticates agents and relays their sealed signaling messages.",
        subcommands: [ServeCommand.self, MigrateCommand.self, NetworkCommand.self, TokenCommand.self, PeerCommand.self, PolicyCommand.self, RouteCommand.self])
}

/// Where the hub's state is: shared by every subcommand.
struct StateOptions: ParsableArguments {
    @Option(help: "TOML configuration file (default: $RIFTGATE_HUB_CONFIG).")
    var config: String?
    @Option(name: .customLong("state-dir"), help: "State directory (default: /var/lib/riftgate-hub as root, else ~/.local/state/riftgate-hub).")
    var stateDirectory: String?
    @Option(help: "SQLite database file (default: <state-dir>/hub.db), or postgres://user@host/db for PostgreSQL (password from ~/.pgpass, PGPASSFILE or passfile=).")
    var database: String?

    /// The settings given as flags, keyed like the config file.
    var flags: [String: ConfigurationValue] {
        var flags: [String: ConfigurationValue] = [:]
        if let stateDirectory { flags["state_dir"] = .text(stateDirectory) }
        if let database { flags["database"] = .text(database) }
        return flags
    }

    /// The administration interface on the configured database.
    func administration() throws -> HubAdministration {
        try HubAdministration(configFile: config, flags: flags)
    }
}
