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
/// the hub serves its local sessions), subscribes to presence, heartbeats and its snapshot subject, and performs the
/// router's cluster actions.
///
/// Threads: `connect` runs on a thread of its own until the first connection; libnats' threads deliver messages and
/// events, which only decode and hand them to `deliver` (the hub posts them to its service thread, never touching the
/// router from here); `subscribeSignals`, `unsubscribeSignals` and `publish` are called on the service thread.
final class ClusterLink: Sendable {
    private let configuration: ClusterBusConfiguration
    private let hubID: String
    private let logger: Logger
    private let deliver: @Sendable (ClusterLinkEvent) -> Void
    private let state = Locked<State>(State())

    private struct State: @unchecked Sendable {
        var bus: ClusterBus?
        /// Signal subscriptions by subject (the router's live sessions).
        var signals: [String: ClusterSubscription] = [:]
        /// Subjects subscribed to before the bus was up: made on connection.
        var wanted: Set<String> = []
        var fixed: [ClusterSubscription] = []
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
            defer { state.bus = nil; state.signals = [:]; state.fixed = [] }
            return state.bus
        }
        bus?.close(timeout: .seconds(3))
    }

    /// Subscribes to `key`'s signal subject and waits (bounded) until the servers have the interest.
    func subscribeSignals(network: String, key: PublicKey) {
        let subject = ClusterSubject.signal(network: network, key: key)
        guard let bus = state.withLock({ state -> ClusterBus? in
            state.wanted.insert(subject)
            return state.signals[subject] == nil ? state.bus : nil
        }) else { return }
        subscribe(subject, on: bus)
        do { try bus.flush(timeout: .seconds(1)) } catch { logger.warning("NATS flush after subscribing failed", metadata: ["error": "\(error)"]) }
    }

    /// Drops `key`'s signal subscription.
    func unsubscribeSignals(network: String, key: PublicKey) {
        let subject = ClusterSubject.signal(network: network, key: key)
        let subscription = state.withLock { state -> ClusterSubscription? in
            state.wanted.remove(subject)
            return state.signals.removeValue(forKey: subject)
        }
        _ = subscription?.cancel(timeout: .seconds(1))
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

    /// Subscribes the fixed subjects and the signal subjects wanted so far, flushes, and announces the connection.
    private func attachBus(_ bus: ClusterBus) -> Bool {
        let stopped = state.withLock { state -> Bool in
            if !state.stopped { state.bus = bus }
            return state.stopped
        }
        if stopped { return false }
        var fixed: [ClusterSubscription] = []
        for subject in [ClusterSubject.allPresence, ClusterSubject.allAlive, ClusterSubject.sessions(hubID: hubID)] {
            do {
                fixed.append(try bus.subscribe(subject) { [weak self] message in self?.received(message) })
            } catch {
                logger.error("cannot subscribe to a cluster subject", metadata: ["subject": "\(subject)", "error": "\(error)"])
            }
        }
        state.withLock { $0.fixed = fixed }
        for subject in state.withLock({ Array($0.wanted) }) { subscribe(subject, on: bus) }
        do { try bus.flush(timeout: .seconds(2)) } catch { logger.warning("NATS flush failed", metadata: ["error": "\(error)"]) }
        deliver(.connectivity(true))
        return true
    }

    private func subscribe(_ subject: String, on bus: ClusterBus) {
        do {
            let subscription = try bus.subscribe(subject) { [weak self] message in self?.received(message) }
            let extra = state.withLock { state -> ClusterSubscription? in
                guard state.wanted.contains(subject), state.signals[subject] == nil else { return subscription }
                state.signals[subject] = subscription
                return nil
            }
            _ = extra?.cancel(timeout: .seconds(1))
        } catch {
            logger.error("cannot subscribe to a peer's signals", metadata: ["subject": "\(subject)", "error": "\(error)"])
        }
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
