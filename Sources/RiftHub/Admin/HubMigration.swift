import RiftStore

/// `riftgate-hub migrate --to postgres://…`: the SQLite database of the configured state directory (or `--database
/// FILE`) copied into an empty PostgreSQL database, while the state directory is locked against a hub serving from it.
public enum HubMigration {
    /// Loads the configuration as `serve` would, takes the state directory's migration lock, copies, and reports each
    /// table through `output` as it goes, then a summary. Every line names PostgreSQL by its URL without the password.
    ///
    /// Fails with `ConfigurationError` when the configuration cannot be read or a hub serves from the directory, and
    /// with `HubStoreError` when the copy cannot be made (the target keeps no row of it).
    public static func run(configFile: String?, flags: [String: ConfigurationValue], target: String,
                           output: (String) -> Void) throws {
        let configuration = try ConfigurationLayers.load(configFile: configFile, flags: flags)
        let state = StateDirectory(path: configuration.stateDirectory)
        // Without the directory there is neither a hub serving from it nor (unless --database names a file) a database.
        let lock = StateMigration.isDirectory(state.path) ? try state.lock(.migrating) : nil
        try withExtendedLifetime(lock) { () throws in
            let migration = try StateMigration(sourcePath: configuration.databasePath, targetURL: target)
            output("Copying \(configuration.databasePath) into \(migration.targetDescription) (one transaction):")
            let copied = try migration.run { line in output("  " + line) }
            let rows = copied.reduce(0) { $0 + $1.rows }
            output("Copied \(rows) rows in \(copied.count) tables; the counts match in both databases.")
            output("Next: start the hubs with --database and that URL; keep \(configuration.databasePath) as a backup (nothing writes to it any more).")
        }
    }
}
