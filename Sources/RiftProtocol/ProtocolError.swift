/// A protocol violation or refusal: a stable `code` for programs and a `message` for people.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The machine-readable code, as sent in an `error` frame.
    public var code: ErrorCode
    /// A human-readable explanation. Never contains a secret.
    public var message: String

    /// Creates an error with its code and explanation.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
