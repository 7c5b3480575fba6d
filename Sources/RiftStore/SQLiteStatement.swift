internal import CRiftSQLite

/// One prepared statement (`sqlite3_stmt`), owned by exactly one `SQLiteDatabase`.
///
/// `init` prepares it and `deinit` finalizes it. The database keeps its statements in a cache and drops
/// them all before it closes the connection, so `connection` outlives every statement.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    /// Prepares `sql` (one statement) on `connection`; fails with SQLite's message when it does not compile.
    init(sql: String, connection: OpaquePointer) throws(SQLiteError) {
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let code = sql.withCString { text in
            sqlite3_prepare_v3(connection, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
        }
        guard code == SQLITE_OK, let statement else {
            throw SQLiteError(code: code, reason: "cannot prepare SQL: \(String(cString: sqlite3_errmsg(connection)))")
        }
        self.handle = statement
        self.connection = connection
        if let tail, tail.pointee != 0, !String(cString: tail).allSatisfy(\.isWhitespace) {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "one statement expected, SQL has trailing text")
        }
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1...n, runs the statement to completion and returns its rows.
    ///
    /// The statement is reset and its bindings cleared afterwards, also on failure, so the cached statement
    /// can be reused and holds no copy of bound secrets.
    func run(_ values: [SQLiteValue]) throws(SQLiteError) -> [SQLiteRow] {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "statement takes \(expected) parameters, got \(values.count)")
        }
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
        var rows: [SQLiteRow] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure("cannot run statement") }
            rows.append(currentRow())
        }
    }

    private func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        let code: Int32
        switch value {
        case .null: code = sqlite3_bind_null(handle, index)
        case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
        case .real(let number): code = sqlite3_bind_double(handle, index, number)
        case .text(let string):
            code = sqlite3_bind_text(handle, index, string, -1, CRiftSQLite_transient())
        case .blob(let bytes):
            // An empty buffer may have a nil base address, which SQLite would store as NULL.
            code = bytes.isEmpty
                ? sqlite3_bind_zeroblob(handle, index, 0)
                : bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), CRiftSQLite_transient()) }
        }
        guard code == SQLITE_OK else { throw failure("cannot bind parameter \(index)") }
    }

    private func currentRow() -> SQLiteRow {
        let count = sqlite3_column_count(handle)
        var values: [SQLiteValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(handle, column) {
            case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(handle, column)))
            case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(handle, column)))
            case SQLITE_TEXT:
                let text = sqlite3_column_text(handle, column)
                let length = Int(sqlite3_column_bytes(handle, column))
                values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""))
            case SQLITE_BLOB:
                let length = Int(sqlite3_column_bytes(handle, column))
                let bytes = sqlite3_column_blob(handle, column)
                values.append(.blob(bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []))
            default: values.append(.null)
            }
        }
        return SQLiteRow(values: values)
    }

    private func failure(_ what: String) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(connection), reason: "\(what): \(String(cString: sqlite3_errmsg(connection)))")
    }
}
