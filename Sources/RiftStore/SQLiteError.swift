/// A failure reported by SQLite, or a misuse of this wrapper that SQLite would have reported.
///
/// `code` is SQLite's extended result code (`SQLITE_BUSY` = 5, `SQLITE_CONSTRAINT_UNIQUE` = 2067, ...) or
/// `SQLiteError.wrapperMisuse` for a problem detected before calling SQLite. `reason` is SQLite's message
/// with the operation that failed; it never contains bound values, so secrets bound as parameters stay out of logs.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code, or `wrapperMisuse`.
    public var code: Int32
    /// What failed, for people.
    public var reason: String

    /// The code used for errors detected by this wrapper rather than by SQLite.
    public static let wrapperMisuse: Int32 = -1

    /// Creates an error from a result code and an explanation.
    public init(code: Int32, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Whether the error is a constraint violation (unique key, foreign key, not null, check).
    public var isConstraintViolation: Bool { code & 0xFF == 19 }  // SQLITE_CONSTRAINT


    public var description: String { "SQLite error \(code): \(reason)" }
}
