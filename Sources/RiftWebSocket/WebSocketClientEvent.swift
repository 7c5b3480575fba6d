/// What happens to a `WebSocketClient`, delivered in order through `WebSocketClient.events`.
public enum WebSocketClientEvent: Sendable, Equatable {
    /// The WebSocket handshake completed; messages sent before this are written now.
    case connected
    /// A complete text message from the server.
    case text(String)
    /// The connection ended; always the last event.
    ///
    /// `code` is the close code the server sent, or the one the client sent when it closed
    /// first; nil when no close frame was exchanged (the connection failed, timed out or broke).
    /// `reason` says why, e.g. "connection refused by 127.0.0.1:443", "the server answered the
    /// WebSocket upgrade with HTTP 401 (Unauthorized)", "TLS certificate verification failed …".
    case closed(code: UInt16?, reason: String)
}
