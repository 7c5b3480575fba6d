extension PostgresConnection: SQLConnection {
    public var dialect: SQLDialect { .postgres }

    /// Applies, in one transaction, every step of `migrations` newer than the highest version recorded in the
    /// table `schema_migrations` (one row per applied step). The transaction holds the write lock, so two hubs
    /// starting together do not both migrate.
    public func migrate(_ migrations: [SQLiteMigration]) throws {
        for (index, step) in migrations.enumerated() where step.version != Int64(index + 1) {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "migration \(index) has version \(step.version), expected \(index + 1)")
        }
        let latest = Int64(migrations.count)
        try transaction {
            try execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            let current = try query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.integer(0) ?? 0
            guard current <= latest else {
                throw SQLiteError(code: SQLiteError.wrapperMisuse,
                                  reason: "database schema version \(current) is newer than this program's \(latest)")
            }
            for step in migrations where step.version > current {
                try execute(step.sql)
                try run("INSERT INTO schema_migrations (version) VALUES (?)", [.integer(step.version)])
            }
        }
    }
}
