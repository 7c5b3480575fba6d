import RiftCrypto
import RiftSupport
import RiftWebSocket

/// Checks hellos' proofs of possession on a thread of its own, beside the service thread.
///
/// A proof costs one X25519 scalar multiplication (about 50 µs), a fifth of the hub's work per join: in a join storm the
/// service thread is the bottleneck and the second CPU has room. Checks queue here; the thread takes all that are
/// waiting, checks them and hands the verdicts over in one call (`deliver`, which posts them to the service thread).
final class ProofCheckWorker: @unchecked Sendable {  // `pending`, `stopping` and `thread` are touched only under `lock`
    private let hubKey: PrivateKey
    private let lock = ConditionLock()
    private var pending: [ProofCheck<ConnectionID>] = []
    private var stopping = false
    private var thread: JoinableThread?

    /// A worker checking against `hubKey`; checks submitted before `start` wait for it.
    init(hubKey: PrivateKey) {
        self.hubKey = hubKey
    }

    /// Starts the thread, which hands each batch of verdicts to `deliver`. Fails when the system cannot start one.
    func start(deliver: @escaping @Sendable ([ProofVerdict<ConnectionID>]) -> Void) throws(SystemCallError) {
        let started = try JoinableThread.spawn(name: "riftgate-proofs") { [self] in run(deliver) }
        lock.withLock { thread = started }
    }

    /// Queues a check for the thread.
    func submit(_ check: ProofCheck<ConnectionID>) {
        lock.withLock {
            pending.append(check)
            lock.signal()
        }
    }

    /// Stops the thread after the batch it is checking (checks still queued are dropped: the hub is going away) and
    /// waits for it. Idempotent.
    func stop() {
        let running = lock.withLock { () -> JoinableThread? in
            stopping = true
            lock.signal()
            defer { thread = nil }
            return thread
        }
        running?.join()
    }

    private func run(_ deliver: @Sendable ([ProofVerdict<ConnectionID>]) -> Void) {
        while let batch = nextBatch() {
            deliver(batch.map { $0.verify(hubKey: hubKey) })
        }
    }

    /// Waits for checks and takes them all; nil once stopping.
    private func nextBatch() -> [ProofCheck<ConnectionID>]? {
        lock.withLock {
            while pending.isEmpty, !stopping { lock.wait(milliseconds: 60_000) }
            guard !stopping else { return nil }
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
    }
}
