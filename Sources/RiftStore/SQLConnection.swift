/// The SQL dialect a connection speaks, for the few statements that cannot be written once for both engines.
public enum SQLDialect: Sendable, Hashable {
    /// SQLite 3 (the single hub's embedded database).
    case sqlite
    /// PostgreSQL (a cluster of hubs sharing one database).
    case postgres
}

/// One connection to a SQL database, as the hub's store uses it: the same calls, values and rows for SQLite
/// and PostgreSQL, so that the store's SQL is written once.
///
/// SQL is written with `?` (or `?N`) parameters; the PostgreSQL connection rewrites them to `$N`. Statements
/// must stay in the subset both engines accept (`ON CONFLICT … DO NOTHING/UPDATE` rather than `INSERT OR IGNORE`,
/// integers rather than booleans). Every failure throws `SQLiteError`: PostgreSQL's are mapped to the nearest
/// SQLite result code (constraint violations stay constraint violations) with the SQLSTATE in the reason.
///
/// Not thread-safe: one thread uses a connection at a time.
public protocol SQLConnection: AnyObject {
    /// Which engine this is.
    var dialect: SQLDialect { get }

    /// Runs one or more statements without parameters (schema changes).
    func execute(_ sql: String) throws(SQLiteError)

    /// Runs one statement with `values` bound to its parameters and returns all result rows.
    @discardableResult
    func query(_ sql: String, _ values: [SQLiteValue]) throws(SQLiteError) -> [SQLiteRow]

    /// Runs one statement that returns no rows and returns how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteValue]) throws(SQLiteError) -> Int

    /// Runs `body` in a write transaction that no other writer on the same database runs alongside (SQLite's
    /// `BEGIN IMMEDIATE`; PostgreSQL's database-wide advisory lock), rolling back when it throws. Does not nest, except
    /// inside a transaction opened with `beginTransaction`, where it runs as a savepoint (its failure undoes only `body`).
    @discardableResult
    func transaction<Result>(_ body: () throws -> Result) throws -> Result

    /// Opens a write transaction that stays open across calls (for batching several writes into one commit); every
    /// `transaction` until `commitTransaction` or `rollbackTransaction` becomes one of its savepoints.
    func beginTransaction() throws(SQLiteError)

    /// Commits what `beginTransaction` opened; on failure nothing of it is kept and the error is thrown.
    func commitTransaction() throws(SQLiteError)

    /// Undoes what `beginTransaction` opened; does nothing when nothing is open.
    func rollbackTransaction()

    /// Brings the schema up to date with `migrations` (numbered 1, 2, 3 … without gaps) in one transaction;
    /// fails, changing nothing, when a step fails or the database has a newer schema than `migrations`.
    func migrate(_ migrations: [SQLiteMigration]) throws
}

extension SQLConnection {
    /// `query` without parameters.
    @discardableResult
    public func query(_ sql: String) throws(SQLiteError) -> [SQLiteRow] { try query(sql, []) }

    /// `run` without parameters.
    @discardableResult
    public func run(_ sql: String) throws(SQLiteError) -> Int { try run(sql, []) }
}

extension SQLiteDatabase: SQLConnection {
    public var dialect: SQLDialect { .sqlite }
}
