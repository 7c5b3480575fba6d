import Foundation
import Logging
import RiftCrypto
import RiftSupport
import Synchronization
import RiftTURN

/// The hub checking its own TURN credentials: on a thread of its own, at start and then every `interval` seconds, it
/// allocates on every UDP `turn:` server with credentials derived from the hub's secret (`TURNAllocationProbe`) and
/// records the outcome for /metrics, so that a secret differing from coturn's, or coturn being down, is seen by the hub
/// itself (alert `RiftgateTURNCredentialsFailing`).
///
/// `start` spawns the thread; `stop` wakes it and waits at most a second for it to end, then joins it: a probe in
/// progress (up to a few seconds, or longer while a slow DNS server answers `getaddrinfo`) must not hold up the hub's
/// shutdown, so such a thread is detached instead; it touches nothing but its own socket and this object, which the
/// thread keeps alive.
/// A change of result is logged with the server and the result, never the credential.
final class TURNCheck: @unchecked Sendable {
    private let servers: [TURNServerAddress]
    private let secret: TURNSecret
    private let interval: Double
    private let logger: Logger
    private let state: Locked<TURNCheckMetrics>
    private let stopRequested = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: JoinableThread?

    /// A check of the UDP servers among `urls`; nil when there is none (`turns:` and TCP-only URIs are not probed).
    init?(urls: [String], secret: TURNSecret, interval: Double, logger: Logger) {
        var servers: [TURNServerAddress] = []
        for server in urls.compactMap({ TURNServerAddress(url: $0) }) where !servers.contains(server) { servers.append(server) }
        guard !servers.isEmpty else { return nil }
        self.servers = servers
        self.secret = secret
        self.interval = interval
        self.logger = logger
        state = Locked(TURNCheckMetrics(servers: servers))
    }

    deinit { stop() }

    /// The check's metrics in the Prometheus text format; callable from any thread.
    func prometheusText() -> String { state.withLock { $0 }.prometheusText() }

    /// Starts checking on a dedicated thread.
    func start() throws(SystemCallError) {
        guard thread == nil else { return }
        thread = try JoinableThread.spawn(name: "riftgate-turncheck") { [self] in run() }
    }

    /// Stops the thread and waits (at most a second) for it to end, then joins it; a probe still running then (each
    /// step may wait two seconds) is left to end on its own (detached). Idempotent.
    func stop() {
        guard let thread, !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        if finished.wait(timeout: .now() + 1) == .timedOut {
            logger.debug("TURN check still probing at shutdown; not waiting for it")
            thread.detach()
        } else {
            thread.join()  // it has returned from `run`: a thread never joined is a leak (TSan reports it)
        }
    }

    private func run() {
        while !stopRequested.load(ordering: .acquiring) {
            for server in servers where !stopRequested.load(ordering: .acquiring) {
                let credentials = TURNCredentials.make(secret: secret.text, name: "riftgate-hub-check",
                                                       expiresAt: Int64(Date().timeIntervalSince1970) + 600)
                let result = TURNAllocationProbe(server: server, username: credentials.username, password: credentials.credential).run()
                let previous = state.withLock { metrics in
                    defer { metrics.record(result, for: server) }
                    return metrics.latest[server]
                }
                if result != previous {
                    let metadata: Logger.Metadata = ["server": "\(server)", "result": "\(result.rawValue)"]
                    if result == .ok { logger.info("TURN check", metadata: metadata) } else { logger.warning("TURN check failing", metadata: metadata) }
                }
            }
            _ = wake.wait(timeout: .now() + interval)
        }
        finished.signal()
    }
}
