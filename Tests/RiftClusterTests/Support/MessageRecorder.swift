import Glibc
import RiftCluster
import RiftSupport

/// Collects what a subscription's handler receives (on libnats' thread) for the test's thread to wait on.
///
/// Messages whose payload is `probe` (sent while waiting for interest to cross the cluster) are only counted, so that
/// probes still in flight never mix with the messages a test checks.
final class MessageRecorder: Sendable {
    static let probe = Array("probe".utf8)
    private let received = Locked<(messages: [ClusterBusMessage], probes: Int)>(([], 0))

    /// The handler to subscribe with.
    var handler: @Sendable (ClusterBusMessage) -> Void {
        { [received] message in
            received.withLock {
                if message.payload == MessageRecorder.probe { $0.probes += 1 } else { $0.messages.append(message) }
            }
        }
    }

    /// Messages other than probes, in arrival order.
    var messages: [ClusterBusMessage] { received.withLock { $0.messages } }

    /// Payloads as text, in arrival order.
    var texts: [String] { messages.map { String(decoding: $0.payload, as: UTF8.self) } }

    /// Whether a probe arrived.
    var sawProbe: Bool { probeCount > 0 }

    /// How many probes arrived.
    var probeCount: Int { received.withLock { $0.probes } }

    func removeAll() { received.withLock { $0.messages.removeAll() } }

    /// Waits until `count` messages (probes aside) arrived, for at most `timeout`; whether they did.
    @discardableResult
    func wait(forCount count: Int, timeout: Duration = .seconds(20)) -> Bool {
        waitUntil(timeout: timeout) { messages.count >= count }
    }
}

/// Polls `condition` every 20 ms for at most `timeout`; whether it held.
@discardableResult
func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
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
        var found: ContinuousClock.Instant?
        waitUntil(timeout: timeout) {
            found = events.withLock { $0.first { predicate($0.0) }?.1 }
            return found != nil
        }
        return found
    }
}
