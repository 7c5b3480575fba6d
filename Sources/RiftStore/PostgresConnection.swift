internal import CRiftPQ
#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL connection (libpq's `PGconn*`): `init` connects, `deinit` closes it.
///
/// Used synchronously by one thread, like `SQLiteDatabase`: the hub's directory is called on its service thread
/// and a round trip on a local network costs less than a millisecond. When the server goes away, the failing
/// call throws and the next call reconnects (`PQreset`); a read (`query`) or the start of a transaction that
/// finds the connection broken reconnects and retries once at once, because nothing of it ran.
///
/// Write transactions take one database-wide advisory lock, so that they run one at a time as SQLite's
/// `BEGIN IMMEDIATE` ones do: the store's read-then-write steps (a free address, a free DNS name, a token's key
/// count) stay correct when several hubs share the database, without rewriting them per engine.
///
/// Errors never contain the password: `location` is the URL with it removed, libpq's messages do not include
/// it, and only the primary message of a server error is kept (its detail may quote bound values).
public final class PostgresConnection {
    private let handle: OpaquePointer
    private var inTransaction = false
    /// A transaction opened by `beginTransaction` and not yet committed or rolled back.
    private var openTransaction = false
    /// Whether a statement now runs inside a transaction (a broken connection must then fail it, not reconnect).
    private var insideTransaction: Bool { inTransaction || openTransaction }
    /// Before this instant a broken connection is not retried (the call fails at once), so that a hub whose
    /// database is gone spends little of its service thread on reconnecting.
    private var nextReconnect = ContinuousClock.now
    private var reconnectDelay = PostgresConnection.minimumReconnectDelay
    /// The connection URL without its password, for messages.
    public let location: String

    /// The key of the advisory lock every write transaction holds ("rift").
    static let writeLockKey: Int64 = 0x7269_6674
    /// Connection settings used unless the URL gives its own: connecting may take 3 s; TCP keepalives and a
    /// 10 s user timeout notice a vanished server (no reset) instead of waiting for an answer forever; waiting for
    /// the write lock fails after 10 s, and a session that sits in a transaction for 30 s (a hub stuck while
    /// holding the lock) is ended by the server, so no hub waits for another for ever.
    static let defaultSettings: [(String, String)] = [
        ("connect_timeout", "3"), ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "10000"),
        ("options", "-c lock_timeout=10s -c idle_in_transaction_session_timeout=30s"),
    ]
    /// The first and the longest wait between reconnection attempts (doubling in between).
    static let minimumReconnectDelay = Duration.milliseconds(500)
    static let maximumReconnectDelay = Duration.seconds(8)

    /// Connects to `url` (`postgres://user@host:port/db?…`; the password from the URL, `passfile=` or PGPASSFILE).
    ///
    /// Fails with `SQLITE_CANTOPEN` (14) and a reason naming host and port when the server cannot be reached or
    /// refuses the login.
    public init(url: String) throws(SQLiteError) {
        location = PostgresURL.redacted(url)
        let keywords = Self.defaultSettings.map(\.0) + ["dbname"]
        let values = Self.defaultSettings.map(\.1) + [url]
        // expand_dbname: the URL is parsed in dbname's place, its own settings winning over the defaults before it.
        let connection = Self.connect(keywords: keywords, values: values)
        guard let connection else { throw SQLiteError(code: Self.cannotOpen, reason: "cannot connect to PostgreSQL: out of memory") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.connectionMessage(connection)
            PQfinish(connection)
            throw SQLiteError(code: Self.cannotOpen, reason: "cannot connect to PostgreSQL \(location): \(reason)")
        }
        handle = connection
        CRiftPQ_silenceNotices(connection)
    }

    deinit { PQfinish(handle) }

    /// Runs one or more statements without parameters (libpq's simple query protocol).
    public func execute(_ sql: String) throws(SQLiteError) {
        try reconnectIfBroken()
        guard let result = PQexec(handle, sql) else { throw brokenConnection("cannot run statement") }
        defer { PQclear(result) }
        try check(result, "cannot run statement")
    }

    /// Runs one statement with `values` bound to its `?`/`?N` parameters and returns all result rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        try perform(sql, values, retryOnBrokenConnection: !insideTransaction) { result in Self.rows(result) }
    }

    /// Runs one statement that returns no rows and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        try perform(sql, values, retryOnBrokenConnection: false) { result in Int(String(cString: PQcmdTuples(result))) ?? 0 }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT` holding the database-wide write lock, rolling back when it throws. Inside a
    /// transaction opened with `beginTransaction`, runs `body` as a savepoint of it instead (see `SQLiteDatabase`).
    @discardableResult
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        guard !inTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "transactions do not nest")
        }
        if openTransaction { return try savepoint(body) }
        try begin()
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try commit()
            return result
        } catch {
            if PQstatus(handle) == CONNECTION_OK { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Opens a write transaction holding the write lock that stays open across calls: `transaction` then runs as its
    /// savepoints, until `commitTransaction` or `rollbackTransaction`. Fails with `wrapperMisuse` inside a transaction.
    public func beginTransaction() throws(SQLiteError) {
        guard !insideTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "transactions do not nest")
        }
        try begin()
        openTransaction = true
    }

    /// Commits the transaction `beginTransaction` opened; when that fails nothing of it is kept and the error is thrown.
    public func commitTransaction() throws(SQLiteError) {
        guard openTransaction, !inTransaction else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "no transaction to commit")
        }
        openTransaction = false
        do {
            try commit()
        } catch {
            if PQstatus(handle) == CONNECTION_OK { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Undoes the transaction `beginTransaction` opened; does nothing when none is open.
    public func rollbackTransaction() {
        guard openTransaction, !inTransaction else { return }
        openTransaction = false
        if PQstatus(handle) == CONNECTION_OK { try? execute("ROLLBACK") }
    }

    /// `body` as a savepoint of the open transaction: a failure undoes only its changes and leaves the transaction usable.
    private func savepoint<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("SAVEPOINT rift_write")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try execute("RELEASE SAVEPOINT rift_write")
            return result
        } catch {
            if PQstatus(handle) == CONNECTION_OK { try? execute("ROLLBACK TO SAVEPOINT rift_write; RELEASE SAVEPOINT rift_write") }
            throw error
        }
    }

    /// `BEGIN` and the write lock; when the connection turns out to be broken, reconnects and tries once more (nothing ran).
    private func begin() throws(SQLiteError) {
        let statement = "BEGIN; SELECT pg_advisory_xact_lock(\(Self.writeLockKey))"
        do {
            try execute(statement)
        } catch {
            guard PQstatus(handle) != CONNECTION_OK else {
                try? execute("ROLLBACK")  // BEGIN may have run without the lock (lock_timeout): end that transaction
                throw error
            }
            try execute(statement)
        }
    }

    /// `COMMIT`, failing when PostgreSQL rolled back instead (a statement of the transaction failed earlier).
    private func commit() throws(SQLiteError) {
        guard let result = PQexec(handle, "COMMIT") else { throw brokenConnection("cannot commit") }
        defer { PQclear(result) }
        try check(result, "cannot commit")
        guard String(cString: PQcmdStatus(result)) == "COMMIT" else {
            throw SQLiteError(code: Self.genericError, reason: "PostgreSQL rolled the transaction back")
        }
    }

    /// Runs one parameterised statement; `retryOnBrokenConnection` reconnects and runs it again once when the
    /// connection turns out to be broken (for statements that change nothing).
    private func perform<Value>(_ sql: String, _ values: [SQLiteValue], retryOnBrokenConnection: Bool,
                                _ read: (OpaquePointer) -> Value) throws(SQLiteError) -> Value {
        try reconnectIfBroken()
        let text = PostgresParameters.numbered(sql)
        let parameters = PostgresParameters(values)
        var result = parameters.execute(text, on: handle)
        if retryOnBrokenConnection, PQstatus(handle) != CONNECTION_OK {
            if let failed = result { PQclear(failed) }
            try reconnectIfBroken()
            result = parameters.execute(text, on: handle)
        }
        guard let result else { throw brokenConnection("cannot run statement") }
        defer { PQclear(result) }
        try check(result, "cannot run statement")
        return read(result)
    }

    /// Reconnects when the connection is known to be broken; fails (with host and port) when that fails too.
    private func reconnectIfBroken() throws(SQLiteError) {
        guard PQstatus(handle) != CONNECTION_OK else { return }
        guard !insideTransaction else { throw brokenConnection("the connection broke inside a transaction") }
        let now = ContinuousClock.now
        guard now >= nextReconnect else {
            throw SQLiteError(code: Self.cannotOpen, reason: "cannot reach PostgreSQL \(location) (retrying shortly): \(Self.connectionMessage(handle))")
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            nextReconnect = ContinuousClock.now + reconnectDelay
            reconnectDelay = min(reconnectDelay * 2, Self.maximumReconnectDelay)
            throw SQLiteError(code: Self.cannotOpen, reason: "cannot reach PostgreSQL \(location): \(Self.connectionMessage(handle))")
        }
        reconnectDelay = Self.minimumReconnectDelay
        CRiftPQ_silenceNotices(handle)
    }

    private func check(_ result: OpaquePointer, _ what: String) throws(SQLiteError) {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default:
            guard let state = PQresultErrorField(result, CRiftPQ_diagSQLState()).map({ String(cString: $0) }) else {
                throw brokenConnection(what)
            }
            let primary = PQresultErrorField(result, CRiftPQ_diagMessagePrimary()).map { String(cString: $0) } ?? "error"
            throw SQLiteError(code: Self.code(sqlState: state), reason: "\(what): PostgreSQL \(state): \(primary)")
        }
    }

    private func brokenConnection(_ what: String) -> SQLiteError {
        SQLiteError(code: Self.ioError, reason: "\(what): lost the connection to PostgreSQL \(location): \(Self.connectionMessage(handle))")
    }

    private static func rows(_ result: OpaquePointer) -> [SQLiteRow] {
        let count = PQntuples(result), columns = PQnfields(result)
        var rows: [SQLiteRow] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [SQLiteValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                if PQgetisnull(result, row, column) == 1 { values.append(.null); continue }
                let text = String(cString: PQgetvalue(result, row, column))
                values.append(PostgresParameters.value(text: text, type: PQftype(result, column)))
            }
            rows.append(SQLiteRow(values: values))
        }
        return rows
    }

    /// libpq's message for the connection (host, port and the cause; never the password), on one line.
    private static func connectionMessage(_ connection: OpaquePointer) -> String {
        let message = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
        let lines = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }
        return lines.isEmpty ? "unknown error" : lines.joined(separator: "; ")
    }

    /// `PQconnectdbParams` with NULL-terminated arrays of C strings copied from `keywords` and `values`.
    private static func connect(keywords: [String], values: [String]) -> OpaquePointer? {
        let keywordCopies = keywords.map { strdup($0) }, valueCopies = values.map { strdup($0) }
        defer {
            keywordCopies.forEach { free($0) }
            valueCopies.forEach { free($0) }
        }
        let keywordPointers: [UnsafePointer<CChar>?] = keywordCopies.map { $0.map { UnsafePointer($0) } } + [nil]
        let valuePointers: [UnsafePointer<CChar>?] = valueCopies.map { $0.map { UnsafePointer($0) } } + [nil]
        return PQconnectdbParams(keywordPointers, valuePointers, 1)
    }
}

extension PostgresConnection {
    static let genericError: Int32 = 1      // SQLITE_ERROR
    static let ioError: Int32 = 10          // SQLITE_IOERR
    static let cannotOpen: Int32 = 14       // SQLITE_CANTOPEN
    static let constraint: Int32 = 19       // SQLITE_CONSTRAINT
    static let uniqueConstraint: Int32 = 2067  // SQLITE_CONSTRAINT_UNIQUE

    /// The SQLite result code nearest to a SQLSTATE: class 23 (integrity constraint violation) becomes a
    /// constraint violation, class 08 (connection exception) an I/O error, anything else SQLITE_ERROR.
    static func code(sqlState: String) -> Int32 {
        if sqlState == "23505" { return uniqueConstraint }
        if sqlState.hasPrefix("23") { return constraint }
        if sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") { return ioError }
        return genericError
    }
}

private extension Substring {
    func trimmingCharacters() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
