import Glibc
import RiftCluster
import RiftSupport

/// Collects what a subscription's handler receives (on libnats' thread) for the test's thread to wait on.
final class MessageRecorder: Sendable {
    private let received = Locked<[ClusterBusMessage]>([])

    /// The handler to subscribe with.
    var handler: @Sendable (ClusterBusMessage) -> Void {
        { [received] message in received.withLock { $0.append(message) } }
    }

    var messages: [ClusterBusMessage] { received.withLock { $0 } }

    /// Payloads as text, in arrival order.
    var texts: [String] { messages.map { String(decoding: $0.payload, as: UTF8.self) } }

    func removeAll() { received.withLock { $0.removeAll() } }

    /// Polls every 20 ms until `condition` holds for the messages so far, for at most `timeout`; whether it held.
    @discardableResult
    func wait(timeout: Duration = .seconds(20), until condition: ([ClusterBusMessage]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if received.withLock({ condition($0) }) { return true }
            usleep(20_000)
        }
        return received.withLock { condition($0) }
    }
}

/// Records the bus's connection events.
final class EventRecorder: Sendable {
    private let events = Locked<[(ClusterBusEvent, ContinuousClock.Instant)]>([])

    var handler: @Sendable (ClusterBusEvent) -> Void {
        { [events] event in events.withLock { $0.append((event, .now)) } }
    }

    var all: [ClusterBusEvent] { events.withLock { $0.map(\.0) } }

    /// When the first event matching `predicate` arrived, waiting for it up to `timeout`.
    func first(within timeout: Duration, where predicate: (ClusterBusEvent) -> Bool) -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let found = events.withLock({ $0.first { predicate($0.0) }?.1 }) { return found }
            usleep(20_000)
        } while ContinuousClock.now < deadline
        return nil
    }
}
