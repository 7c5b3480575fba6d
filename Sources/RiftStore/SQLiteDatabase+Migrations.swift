/// One step of a schema: the SQL that takes a database from `version - 1` to `version`.
public struct SQLiteMigration: Sendable {
    /// The `user_version` the database has after this step.
    public var version: Int64
    /// The statements of the step, run with `execute`.
    public var sql: String

    /// Creates a migration step.
    public init(version: Int64, sql: String) {
        self.version = version
        self.sql = sql
    }
}

extension SQLiteDatabase {
    /// The schema version stored in the file header (`PRAGMA user_version`); 0 for a new database.
    public func userVersion() throws(SQLiteError) -> Int64 {
        try query("PRAGMA user_version").first?.integer(0) ?? 0
    }

    /// Applies, in one transaction, every step of `migrations` newer than the file's `user_version`.
    ///
    /// `migrations` must be numbered 1, 2, 3 … without gaps. Fails (changing nothing) when a step fails or
    /// when the file was written by a newer program whose schema version this one does not know.
    public func migrate(_ migrations: [SQLiteMigration]) throws {
        for (index, step) in migrations.enumerated() where step.version != Int64(index + 1) {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "migration \(index) has version \(step.version), expected \(index + 1)")
        }
        let latest = Int64(migrations.count)
        try transaction {
            let current = try userVersion()
            guard current <= latest else {
                throw SQLiteError(code: SQLiteError.wrapperMisuse,
                                  reason: "database schema version \(current) is newer than this program's \(latest)")
            }
            for step in migrations where step.version > current { try execute(step.sql) }
            // PRAGMA takes no bound parameters; the value is an integer we produced.
            if latest != current { try execute("PRAGMA user_version = \(latest)") }
        }
    }
}
