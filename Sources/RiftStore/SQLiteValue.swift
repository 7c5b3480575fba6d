/// A value bound to a statement parameter or read from a result column, in SQLite's five storage classes.
public enum SQLiteValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// An IEEE double.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
}

extension SQLiteValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue {
    /// `.text(value)`, or `.null` when `value` is nil.
    public static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    /// `.integer(value)`, or `.null` when `value` is nil.
    public static func integer(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
    /// `.integer(Int64(value))`.
    public static func integer(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }
}

extension SQLiteValue {
    /// The storage class name (`null`, `integer`, `real`, `text`, `blob`), for error messages that must not show the value.
    public var storageClass: String {
        switch self {
        case .null: "null"
        case .integer: "integer"
        case .real: "real"
        case .text: "text"
        case .blob: "blob"
        }
    }
}
