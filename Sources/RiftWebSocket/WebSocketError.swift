/// A failure of the WebSocket layer: a sentence for people and, when the C library or the
/// operating system reported one, its numeric code (an `errno` or a libwebsockets return value).
///
/// Reasons never contain header values, tokens or key material.
public struct WebSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, written for the person running riftgate.
    public var reason: String
    /// The `errno` or libwebsockets code behind the failure, if there was one.
    public var code: Int32?

    /// Creates an error from a reason and, optionally, the C code that caused it.
    public init(_ reason: String, code: Int32? = nil) {
        self.reason = reason
        self.code = code
    }

    /// The reason, followed by the C code when there is one.
    public var description: String {
        guard let code else { return reason }
        return "\(reason) (code \(code))"
    }
}
