/// A parsed JSON value.
///
/// The protocol decodes frames into a `JSONValue` first and then reads typed fields from it, so that
/// unknown fields, wrong types and missing fields each get their own stable error code instead of one
/// generic "could not decode". (A client's signal in its usual form is read from its bytes by `SignalFrameScanner`,
/// which accepts only what this path accepts and leaves every refusal to it.)
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
