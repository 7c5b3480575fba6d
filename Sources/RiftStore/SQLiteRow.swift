/// One result row, copied out of SQLite so it stays valid after the statement moves on.
///
/// The typed accessors trap on a column index out of range (a programming error) and return the value
/// converted as documented; use `value(_:)` to see the storage class.
public struct SQLiteRow: Sendable, Hashable {
    /// The columns in the order of the SELECT list.
    public var values: [SQLiteValue]

    /// Creates a row.
    public init(values: [SQLiteValue]) { self.values = values }

    /// The raw value of column `index`.
    public func value(_ index: Int) -> SQLiteValue { values[index] }

    /// Column `index` as an integer; nil for NULL or a non-integer value.
    public func integer(_ index: Int) -> Int64? {
        if case .integer(let number) = values[index] { return number }
        return nil
    }

    /// Column `index` as text; nil for NULL or a non-text value.
    public func text(_ index: Int) -> String? {
        if case .text(let string) = values[index] { return string }
        return nil
    }

    /// Column `index` as a blob; nil for NULL or a non-blob value.
    public func blob(_ index: Int) -> [UInt8]? {
        if case .blob(let bytes) = values[index] { return bytes }
        return nil
    }

    /// Column `index` as text, failing when it is NULL or not text (a schema mismatch).
    public func requiredText(_ index: Int) throws(SQLiteError) -> String {
        guard let string = text(index) else { throw Self.mismatch(index, "text", values[index]) }
        return string
    }

    /// Column `index` as an integer, failing when it is NULL or not an integer (a schema mismatch).
    public func requiredInteger(_ index: Int) throws(SQLiteError) -> Int64 {
        guard let number = integer(index) else { throw Self.mismatch(index, "integer", values[index]) }
        return number
    }

    private static func mismatch(_ index: Int, _ expected: String, _ value: SQLiteValue) -> SQLiteError {
        SQLiteError(code: SQLiteError.wrapperMisuse, reason: "column \(index) holds \(value.storageClass), expected \(expected)")
    }
}
