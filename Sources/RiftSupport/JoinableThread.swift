internal import CRiftLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One POSIX thread, for work that blocks (`poll`, `epoll_wait`, a C library's service loop) and so must never run on
/// Swift's cooperative pool: the one way this package starts a thread.
///
/// `spawn` fails with the `pthread_create` error instead of crashing; `join` waits for the body to return (never from
/// the thread itself); `detach` lets it end on its own. The name (first 15 bytes, the kernel's limit) shows in `top -H`,
/// `ps -L` and core dumps.
public final class JoinableThread: @unchecked Sendable {  // immutable: the handle is only read
    private let handle: pthread_t

    private init(handle: pthread_t) {
        self.handle = handle
    }

    /// Starts a thread named `name` running `body`.
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) -> JoinableThread {
        let box = Unmanaged.passRetained(ThreadStart(name: name, body: body))
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            _ = CRiftLinux_name_this_thread(start.name)
            start.body()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw SystemCallError("pthread_create (\(name))", code: status)
        }
        return JoinableThread(handle: handle)
    }

    /// True when called on this thread.
    public var isCurrent: Bool { pthread_equal(pthread_self(), handle) != 0 }

    /// Waits for the thread's body to return. At most once, never on the thread itself, and not after `detach`.
    public func join() {
        precondition(!isCurrent, "a thread cannot join itself")
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread end on its own, releasing its resources then. Instead of `join`.
    public func detach() {
        _ = pthread_detach(handle)
    }
}

/// What a new thread runs; boxed to travel through `pthread_create`'s single pointer.
private final class ThreadStart {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}
