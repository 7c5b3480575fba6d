import Glibc
import Synchronization

/// A thread that waits on descriptors with `poll` and can be stopped at any moment: the skeleton shared by the agent's
/// control socket and its network-change monitor.
///
/// `body` runs on a new `JoinableThread` and loops on `waiter.wait(for:timeoutMilliseconds:)`, which polls the given
/// descriptors plus a wake-up pipe and returns nil once `stop()` was called (or `poll` failed): then `body` returns.
/// `stop()` wakes the thread and joins it before it closes the pipe, so the owner may close its own descriptors right
/// after `stop()` returns, never under a thread that may be entering `accept` or `recv`.
public final class PollingThread: Sendable {
    /// What the thread's body waits with.
    public struct Waiter: Sendable {
        fileprivate let wake: Int32
        fileprivate let stopping: @Sendable () -> Bool

        /// Polls `descriptors` (plus the wake-up pipe) for up to `timeoutMilliseconds` (-1: no limit) and returns them
        /// with their `revents`; nil when the thread must stop.
        public func wait(for descriptors: [pollfd], timeoutMilliseconds: Int32) -> [pollfd]? {
            guard !stopping() else { return nil }
            var polled = descriptors + [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            guard (try? SystemCall.poll(&polled, timeoutMilliseconds: timeoutMilliseconds)) != nil,
                  polled[polled.count - 1].revents == 0, !stopping() else { return nil }
            return Array(polled.dropLast())
        }
    }

    private let thread: JoinableThread
    private let wake: (read: Int32, write: Int32)
    private let stopped = Locked(false)

    /// Starts a thread named `name` running `body`. Fails when no pipe or thread can be made (nothing is left open).
    public init(name: String, _ body: @escaping @Sendable (Waiter) -> Void) throws(SystemCallError) {
        let wake = try SystemCall.pipe()
        let flag = StopFlag()
        let waiter = Waiter(wake: wake.read, stopping: { flag.isSet })
        do {
            thread = try JoinableThread.spawn(name: name) { body(waiter) }
        } catch {
            _ = Glibc.close(wake.read)
            _ = Glibc.close(wake.write)
            throw error
        }
        self.wake = wake
        self.flag = flag
    }

    private let flag: StopFlag

    /// Asks the body to return, waits for it, then closes the wake-up pipe. Idempotent and thread-safe (a second
    /// caller waits for the first to finish). Called from the thread itself (its owner freed there), it only asks the body
    /// to return at its next wait.
    public func stop() {
        stopped.withLock { done in
            guard !done else { return }
            done = true
            flag.set()
            if thread.isCurrent {
                thread.detach()  // the owner was freed by the body itself: it returns at its next wait
            } else {
                try? SystemCall.writeAll(wake.write, [1])
                thread.join()
            }
            _ = Glibc.close(wake.read)
            _ = Glibc.close(wake.write)
        }
    }

    /// Stops the thread if its owner forgot to.
    deinit { stop() }
}

/// The stop request, shared by the owner and the waiter.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
