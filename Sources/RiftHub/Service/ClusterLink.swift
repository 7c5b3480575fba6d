import Foundation
import Logging
import RiftCluster
import RiftProtocol
import RiftSupport

/// What the cluster bus hands to the hub's service thread.
enum ClusterLinkEvent: Sendable {
    /// A decoded message from another hub (or this hub's own, which the router drops).
    case message(ClusterMessage)
    /// The bus is connected with every subscription in place (true), or lost its servers (false).
    case connectivity(Bool)
}

/// A hub's link to the cluster's NATS servers: connects (retrying in the background until a server answers, while
/// the hub serves its local sessions), subscribes once to presence, heartbeats and its own snapshot and signal
/// subjects, and publishes what the router asks. Nothing here runs per session: a join costs one publish.
///
/// Threads: `connect` runs on a thread of its own until the first connection; libnats' threads deliver messages and
/// events, which only decode and hand them to `deliver` (the hub posts them to its service thread, never touching the
/// router from here); `publish` is called on the service thread and never waits for the servers.
final class ClusterLink: Sendable {
    private let configuration: ClusterBusConfiguration
    private let hubID: String
    private let logger: Logger
    private let deliver: @Sendable (ClusterLinkEvent) -> Void
    private let state = Locked<State>(State())

    private struct State: @unchecked Sendable {
        var bus: ClusterBus?
        var subscriptions: [ClusterSubscription] = []
        var stopped = false
        var connector: JoinableThread?
    }

    /// How long to wait between connection attempts while no server answers.
    static let retrySeconds = 2.0

    init(configuration: ClusterBusConfiguration, hubID: String, logger: Logger, deliver: @escaping @Sendable (ClusterLinkEvent) -> Void) {
        self.configuration = configuration
        self.hubID = hubID
        self.logger = logger
        self.deliver = deliver
    }

    /// Starts connecting in the background and returns at once; fails when the system refuses a thread.
    func start() throws(SystemCallError) {
        let thread = try JoinableThread.spawn(name: "riftgate-cluster") { [self] in connectLoop() }
        state.withLock { $0.connector = thread }
    }

    /// Stops connecting (joining the thread: at most one connect timeout), then closes the bus, waiting (bounded) for
    /// libnats' handlers. Idempotent.
    func stop() {
        let connector = state.withLock { state -> JoinableThread? in
            state.stopped = true
            defer { state.connector = nil }
            return state.connector
        }
        connector?.join()
        let bus: ClusterBus? = state.withLock { state in
            defer { state.bus = nil; state.subscriptions = [] }
            return state.bus
        }
        bus?.close(timeout: .seconds(3))
    }

    /// Publishes `message` on `subject`; dropped (with a debug line) while the bus has never connected.
    func publish(_ message: ClusterMessage, subject: String) {
        guard let bus = state.withLock({ $0.bus }) else {
            logger.debug("cluster message dropped: NATS not connected yet", metadata: ["subject": "\(subject)"])
            return
        }
        do {
            try bus.publish(subject, message.encoded)
        } catch {
            logger.warning("cluster publish failed", metadata: ["subject": "\(subject)", "error": "\(error)"])
        }
    }

    // MARK: Private

    private func connectLoop() {
        var attempt = 0
        while !state.withLock({ $0.stopped }) {
            attempt += 1
            do {
                let bus = try ClusterBus.connect(configuration, logger: logger) { [weak self] event in self?.busEvent(event) }
                if !attachBus(bus) { bus.close() }
                return
            } catch {
                if attempt == 1 || attempt % 30 == 0 {
                    logger.warning("NATS unreachable; serving local sessions and retrying", metadata: [
                        "error": "\(error)", "retry_seconds": "\(Self.retrySeconds)",
                    ])
                }
            }
            for _ in 0..<Int(Self.retrySeconds * 10) where !state.withLock({ $0.stopped }) { usleep(100_000) }
        }
    }

    /// Subscribes this hub's subjects, flushes (so that the servers have the interest before anyone hears of this
    /// hub), and announces the connection.
    private func attachBus(_ bus: ClusterBus) -> Bool {
        let stopped = state.withLock { state -> Bool in
            if !state.stopped { state.bus = bus }
            return state.stopped
        }
        if stopped { return false }
        var subscriptions: [ClusterSubscription] = []
        for subject in [ClusterSubject.signals(hubID: hubID), ClusterSubject.allPresence, ClusterSubject.allAlive,
                        ClusterSubject.sessions(hubID: hubID)] {
            do {
                subscriptions.append(try bus.subscribe(subject) { [weak self] message in self?.received(message) })
            } catch {
                logger.error("cannot subscribe to a cluster subject", metadata: ["subject": "\(subject)", "error": "\(error)"])
            }
        }
        state.withLock { $0.subscriptions = subscriptions }
        do { try bus.flush(timeout: .seconds(2)) } catch { logger.warning("NATS flush failed", metadata: ["error": "\(error)"]) }
        deliver(.connectivity(true))
        return true
    }

    private func received(_ message: ClusterBusMessage) {
        do {
            deliver(.message(try ClusterMessage.decode(message.payload)))
        } catch {
            logger.notice("malformed cluster message dropped", metadata: ["subject": "\(message.subject)", "error": "\(error.code.rawValue)"])
        }
    }

    private func busEvent(_ event: ClusterBusEvent) {
        switch event {
        case .disconnected: deliver(.connectivity(false))
        case .reconnected: deliver(.connectivity(true))
        case .closed: break
        }
    }
}
