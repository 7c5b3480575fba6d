import ArgumentParser
import RiftHub

/// `riftgate-hub migrate`.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a single hub's SQLite state into an empty PostgreSQL database, for a cluster of hubs.",
        discussion: "Stop the hub first (migrate refuses a state directory a hub is serving from). Every table is copied in one PostgreSQL transaction and the row counts are compared; a non-empty target is refused.")

    @OptionGroup var state: StateOptions
    @Option(help: "The PostgreSQL database to fill, e.g. postgres://riftgate@db.example:5432/riftgate (password from ~/.pgpass, PGPASSFILE or passfile=).")
    var to: String

    func run() throws {
        try HubMigration.run(configFile: state.config, flags: state.flags, target: to) { line in print(line) }
    }
}
