#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One POSIX thread that runs a libwebsockets service loop until its body returns.
///
/// A plain thread rather than a task: `lws_service` blocks in `poll`, which must never happen
/// on Swift's cooperative pool.
final class ServiceThread: @unchecked Sendable {
    private let handle: pthread_t

    private init(handle: pthread_t) {
        self.handle = handle
    }

    /// Starts a thread running `body`; `name` appears in the error when it cannot start.
    /// Throws with the `pthread_create` error when the system refuses a new thread.
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(WebSocketError) -> ServiceThread {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body))
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            let threadBody = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            threadBody.body()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw WebSocketError("cannot start the \(name) thread: \(String(cString: strerror(status)))", code: status)
        }
        return ServiceThread(handle: handle)
    }

    /// True when called on this thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), handle) != 0 }

    /// Waits for the thread to finish. Must be called at most once, never on the thread itself.
    func join() {
        precondition(!isCurrent, "a service thread cannot join itself")
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread finish on its own, releasing its resources then. Instead of `join`.
    func detach() {
        _ = pthread_detach(handle)
    }
}

/// What a new thread runs; boxed to travel through `pthread_create`'s single pointer.
private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}
