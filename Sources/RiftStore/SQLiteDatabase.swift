internal import CRiftSQLite
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection (`sqlite3*`) to a database file: `init` opens it, `deinit` closes it.
///
/// The file is created with mode 0600 (it may hold credential hashes) and opened in WAL mode with
/// `synchronous=NORMAL`, foreign keys enforced and a busy timeout, so that a second process (the admin
/// CLI) can write while the hub reads. Statements are prepared once per SQL text and cached.
///
/// Not thread-safe: one thread (or one lock holder) uses a connection at a time. Every failure throws
/// `SQLiteError` with SQLite's extended result code.
public final class SQLiteDatabase {
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    private var inTransaction = false
    /// A transaction opened by `beginTransaction` and not yet committed or rolled back.
    private var openTransaction = false

    /// The most statements kept prepared; the cache is emptied when it would grow past this.
    private static let statementCacheLimit = 128

    /// Opens (creating if needed) the database at `path`; `":memory:"` opens a private in-memory database.
    ///
    /// Fails when the file cannot be created or opened, is not a SQLite database, or WAL cannot be enabled.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws(SQLiteError) {
        if path != ":memory:" { try Self.createPrivateFile(path) }
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let reason = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw SQLiteError(code: code, reason: "cannot open \(path): \(reason)")
        }
        self.handle = connection
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(connection, Int32(clamping: milliseconds))
        sqlite3_extended_result_codes(connection, 1)
        if path != ":memory:" {
            let mode = try query("PRAGMA journal_mode=WAL").first?.text(0)
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "cannot enable WAL journal mode on \(path)")
            }
        }
        try execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    }

    deinit {
        statements.removeAll()  // finalize every statement before closing the connection
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters (schema changes, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            let reason = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw SQLiteError(code: sqlite3_extended_errcode(handle), reason: reason)
        }
    }

    /// Runs one statement with `values` bound to its `?` parameters and returns all result rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        try statement(sql).run(values)
    }

    /// Runs one statement that returns no rows and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        _ = try statement(sql).run(values)
        return Int(sqlite3_changes64(handle))
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`, rolling back when it throws. Inside a transaction opened with
    /// `beginTransaction`, runs `body` as a savepoint of it instead: a failure undoes only `body`'s changes, and they
    /// are durable only once `commitTransaction` succeeds.
    ///
    /// IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading read locks.
    /// Transactions do not nest: calling this from inside `body` fails with `wrapperMisuse`.
    @discardableResult
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        guard !inTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "transactions do not nest")
        }
        if openTransaction { return try savepoint(body) }
        try execute("BEGIN IMMEDIATE")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE`) that stays open across calls: `transaction` then runs as its
    /// savepoints, until `commitTransaction` or `rollbackTransaction`. Fails with `wrapperMisuse` inside a transaction.
    public func beginTransaction() throws(SQLiteError) {
        guard !inTransaction, !openTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "transactions do not nest")
        }
        try execute("BEGIN IMMEDIATE")
        openTransaction = true
    }

    /// Commits the transaction `beginTransaction` opened. When that fails (or SQLite already rolled it back after an
    /// I/O error), nothing of it is kept and the error is thrown.
    public func commitTransaction() throws(SQLiteError) {
        guard openTransaction, !inTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "no transaction to commit")
        }
        openTransaction = false
        guard sqlite3_get_autocommit(handle) == 0 else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "the transaction was rolled back by an earlier failure")
        }
        do {
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Undoes the transaction `beginTransaction` opened; does nothing when none is open.
    public func rollbackTransaction() {
        guard openTransaction, !inTransaction else { return }
        openTransaction = false
        if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
    }

    /// `body` as a savepoint of the open transaction. Fails without running `body` when SQLite already rolled that
    /// transaction back (after I/O errors it does so on its own): a savepoint would then start a transaction of its own.
    private func savepoint<Result>(_ body: () throws -> Result) throws -> Result {
        guard sqlite3_get_autocommit(handle) == 0 else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "the transaction was rolled back by an earlier failure")
        }
        try execute("SAVEPOINT rift_write")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try execute("RELEASE rift_write")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK TO rift_write; RELEASE rift_write") }
            throw error
        }
    }

    /// `PRAGMA data_version`: changes whenever another connection commits to the file, so polling it
    /// tells a long-running process that someone else changed the data.
    public func dataVersion() throws(SQLiteError) -> Int64 {
        try query("PRAGMA data_version").first?.integer(0) ?? 0
    }

    private func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        let prepared = try SQLiteStatement(sql: sql, connection: handle)
        if statements.count >= Self.statementCacheLimit { statements.removeAll() }
        statements[sql] = prepared
        return prepared
    }

    private static func createPrivateFile(_ path: String) throws(SQLiteError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SQLiteError(code: SQLITE_CANTOPEN, reason: "cannot create \(path): \(SystemCallError.reason(for: errno))")
        }
        close(descriptor)
    }
}
