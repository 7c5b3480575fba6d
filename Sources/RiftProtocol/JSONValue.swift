/// A parsed JSON value.
///
/// The protocol decodes every frame into a `JSONValue` first and then reads typed fields from it, so that
/// unknown fields, wrong types and missing fields each get their own stable error code instead of one
/// generic "could not decode".
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A short name of the value's JSON type, used in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
