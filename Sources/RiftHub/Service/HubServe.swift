import Foundation
import Logging
import RiftWebSocket

/// `riftgate-hub serve`: merges the configuration, starts the hub and runs until SIGTERM or SIGINT.
public enum HubServe {
    /// Resolves the configuration from `flags` > environment > `configFile` > defaults, logs to standard
    /// error, serves, and on SIGTERM/SIGINT shuts down gracefully and returns (exit status 0).
    ///
    /// `frameStreamWatcher` checks that clients mask their frames and counts their control frames (the executable's
    /// `CRiftFrameGuard`; see `WebSocketServer.Configuration.frameStreamWatcher`).
    ///
    /// Fails before listening with a `ConfigurationError` or `HubServiceError` whose text names the problem.
    public static func run(configFile: String?, flags: [String: ConfigurationValue],
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           frameStreamWatcher: (any FrameStreamWatcher)? = nil) throws {
        TerminationSignals.block()
        let configuration = try ConfigurationLayers.load(configFile: configFile, flags: flags, environment: environment)
        HubLogging.bootstrap(level: configuration.logLevel)
        let logger = Logger(label: "riftgate-hub")
        let service = try HubService(configuration: configuration, logger: logger,
                                     frameStreamWatcher: frameStreamWatcher)
        try service.start()
        let signal = TerminationSignals.wait()
        logger.notice("received signal", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
        service.shutdown()
    }
}
