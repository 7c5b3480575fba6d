/// A complete answer to a plain HTTP `GET` served on the WebSocket port (health checks, metrics).
public struct HTTPResponse: Sendable, Hashable {
    /// The HTTP status code, e.g. 200.
    public var status: Int
    /// The `Content-Type` header, e.g. `text/plain; charset=utf-8`.
    public var contentType: String
    /// The body, sent as UTF-8 with a `Content-Length`.
    public var body: String

    /// Creates a response.
    public init(status: Int, contentType: String, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// The answer for a path the handler does not serve.
    static let notFound = HTTPResponse(status: 404, contentType: "text/plain; charset=utf-8", body: "not found\n")
}
