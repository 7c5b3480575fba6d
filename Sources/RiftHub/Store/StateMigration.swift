import RiftStore

/// Copies a single hub's whole state, its SQLite database, into an empty PostgreSQL database, so that the same
/// networks, tokens and peers (with their addresses and names) are served by a cluster of hubs
/// (`riftgate-hub migrate --to postgres://…`).
///
/// The tables and their columns are read from the SQLite database itself (`sqlite_master`), not listed here, so a
/// table a later schema version adds is copied without touching this type; the target's schema is created by the
/// PostgreSQL migrations (`HubDatabase.postgresMigrations`) and must hold every source table with the same columns.
/// The copy runs in one PostgreSQL transaction while the SQLite database is held by a write transaction (nothing
/// changes it meanwhile), and the row counts of both sides are compared before the commit and again after it.
///
/// Every failure is a `HubStoreError` whose text names the database by its redacted URL, never by its password; a
/// failure before the commit leaves the target empty (its schema may have been created).
public struct StateMigration {
    /// One copied table: its name and its number of rows (the same in both databases).
    public struct CopiedTable: Sendable, Hashable {
        /// The table's name.
        public var name: String
        /// Its rows.
        public var rows: Int
    }

    let source: HubDatabase
    let target: HubDatabase
    /// The target's URL without its password, for messages.
    let targetDescription: String

    /// Opens the SQLite database at `sourcePath` (which must exist) and the PostgreSQL database at `targetURL`,
    /// creating or updating the schema of both.
    ///
    /// Fails with `.invalidInput` when `sourcePath` is missing or not a file path, or `targetURL` is not a
    /// PostgreSQL URL, and with `.storage` when either cannot be opened.
    public init(sourcePath: String, targetURL: String) throws(HubStoreError) {
        guard PostgresURL.isURL(targetURL) else {
            throw HubStoreError(.invalidInput, "the target must be a PostgreSQL URL (postgres://user@host:5432/db), not \"\(targetURL)\"")
        }
        guard !PostgresURL.isURL(sourcePath) else {
            throw HubStoreError(.invalidInput, "the source is already PostgreSQL (\(PostgresURL.redacted(sourcePath))); migrate copies a SQLite hub's state")
        }
        guard StateMigration.isFile(sourcePath) else {
            throw HubStoreError(.invalidInput, "no hub database at \(sourcePath): give the hub's --state-dir (or --database FILE)")
        }
        source = try HubDatabase(path: sourcePath)
        target = try HubDatabase(location: targetURL)
        targetDescription = PostgresURL.redacted(targetURL)
    }

    /// Copies every table, reporting each through `progress` as it is copied, and returns the tables with their
    /// row counts. Refuses (copying nothing) a target whose hub tables hold any row.
    public func run(progress: (String) -> Void) throws(HubStoreError) -> [CopiedTable] {
        let tables = try source.read { () throws(SQLiteError) in try SourceTable.all(in: source.database) }
        try checkTargetSchema(tables)
        let copied: [CopiedTable] = try HubDatabase.mapped {
            try source.database.transaction {
                try target.database.transaction {
                    try refuseNonEmptyTarget(tables)
                    var copied: [CopiedTable] = []
                    for table in tables {
                        let rows = try table.copy(from: source.database, to: target.database)
                        copied.append(CopiedTable(name: table.name, rows: rows))
                        progress("\(table.name): \(rows) \(rows == 1 ? "row" : "rows")")
                    }
                    try verifyTargetCounts(copied, when: "before the commit")
                    try advanceSequences(tables)
                    // A hub already running on the target reloads what it caches (names, routes, policy) at once.
                    try target.database.run("UPDATE change_marker SET value = value + 1 WHERE id = 1")
                    return copied
                }
            }
        }
        try HubDatabase.mapped { try verifyTargetCounts(copied, when: "after the commit") }
        return copied
    }

    /// Every source table exists in the target with the same columns (the target's schema may have more tables).
    private func checkTargetSchema(_ tables: [SourceTable]) throws(HubStoreError) {
        for table in tables {
            let columns = try target.read { () throws(SQLiteError) in
                try target.database.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
                                          [.text(table.name)]).compactMap { $0.text(0) }
            }
            guard !columns.isEmpty else {
                throw HubStoreError(.storage, "\(targetDescription) has no table \(table.name) after its schema update: is this riftgate-hub older than the one that wrote the SQLite database?")
            }
            let missing = Set(table.columns).subtracting(columns)
            guard missing.isEmpty else {
                throw HubStoreError(.storage, "table \(table.name) of \(targetDescription) lacks the columns \(missing.sorted().joined(separator: ", ")) of the SQLite database")
            }
        }
    }

    private func refuseNonEmptyTarget(_ tables: [SourceTable]) throws {
        var filled: [String] = []
        for table in tables {
            let rows = try table.count(in: target.database)
            if rows > 0 { filled.append("\(table.name) (\(rows) rows)") }
        }
        guard filled.isEmpty else {
            throw HubStoreError(.invalidInput, "\(targetDescription) is not empty: \(filled.joined(separator: ", ")); migrate only into a new, empty database")
        }
    }

    private func verifyTargetCounts(_ copied: [CopiedTable], when: String) throws {
        for table in copied {
            let rows = try SourceTable.count(table.name, in: target.database)
            guard rows == table.rows else {
                throw HubStoreError(.storage, "table \(table.name) holds \(rows) rows in \(targetDescription) \(when), \(table.rows) in the SQLite database; nothing was kept")
            }
        }
    }

    /// Sets every sequence behind a copied column (SERIAL or IDENTITY) past the highest copied value, so that rows
    /// inserted later do not collide with copied ones. The schema has none today (addresses and rename revisions
    /// continue from `MAX(...)` of the copied rows); this keeps a later schema that adds one correct.
    private func advanceSequences(_ tables: [SourceTable]) throws {
        let copiedNames = Set(tables.map(\.name))
        let sequences = try target.database.query("""
            SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
            FROM information_schema.columns
            WHERE table_schema = current_schema() AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL
            """)
        for row in sequences {
            guard let table = row.text(0), let column = row.text(1), let sequence = row.text(2), copiedNames.contains(table) else { continue }
            try target.database.query("SELECT setval(CAST(? AS regclass), COALESCE((SELECT MAX(\(SourceTable.quoted(column))) FROM \(SourceTable.quoted(table))), 0) + 1, false)",
                                      [.text(sequence)])
        }
    }
}
