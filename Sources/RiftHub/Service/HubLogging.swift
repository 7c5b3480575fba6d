import Logging

/// Logging to standard error, one line per event, at a configurable level.
public enum HubLogging {
    /// Installs swift-log's standard-error handler at `level` (`info` when unknown). Call once per process.
    public static func bootstrap(level: String) {
        let level = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
