/// The diagnostics libwebsockets itself prints (errors and warnings, process-wide), for
/// programs that want them in their own log instead of on standard error.
///
/// Failures that belong to an operation are not routed here: they are part of the error that
/// operation reports (`WebSocketServer.start()`, a client's `.closed` reason).
public enum WebSocketLibraryLog {
    /// How serious a libwebsockets line is.
    public enum Level: Sendable {
        case error
        case warning
    }

    /// Sends libwebsockets' lines to `handler` (nil: back to standard error). The handler runs
    /// on whichever service thread logged, so it must be quick and thread-safe.
    public static func setHandler(_ handler: (@Sendable (Level, String) -> Void)?) {
        LibraryLog.install()
        libraryLogHandler.withLock { $0 = handler }
    }
}
