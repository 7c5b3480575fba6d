internal import CRiftNice
import RiftSupport

/// The thread every libnice agent of the process lives on.
///
/// Owns a private `GMainContext` (never GLib's global default one) and one thread, named `name`, running a
/// `GMainLoop` on it. `ICESession`s created with this loop create, use and free their agents only on that
/// thread; their public methods hop onto it. One loop serves many sessions.
///
/// Keep the loop alive for as long as its sessions (sessions hold a reference). `shutdown()` closes any
/// session still open, waits up to two seconds for their TURN allocations to be released, and ends the
/// thread; later calls on those sessions throw `loopStopped`.
public final class ICEEventLoop: @unchecked Sendable {
    let core: MainContextThread
    /// The `GThread*` until it is joined.
    private let thread: Locked<UnsafeMutablePointer<GThread>?>

    /// Starts the loop thread. Thread creation failing is treated like memory exhaustion: GLib aborts.
    public init(name: String = "riftgate-ice") {
        let core = MainContextThread()
        self.core = core
        let started = g_thread_new(name, { data in
            // The thread holds its own reference to the context owner until the loop ends.
            let core = Unmanaged<MainContextThread>.fromOpaque(data!).takeRetainedValue()
            core.run()
            return nil
        }, Unmanaged.passRetained(core).toOpaque())
        thread = Locked(started)
    }

    /// Closes the sessions still open, stops the loop and waits for its thread to end. Idempotent. Called on
    /// the loop thread itself (from a handler), it only starts the stop: a thread cannot wait for itself.
    public func shutdown() {
        guard let handle = thread.withLock({ handle -> UnsafeMutablePointer<GThread>? in
            defer { handle = nil }
            return handle
        }) else { return }
        core.requestStop()
        if core.isLoopThread {
            g_thread_unref(handle)
        } else {
            _ = g_thread_join(handle)
        }
    }

    deinit { shutdown() }

    /// Whether the caller is on this loop's thread (where receive handlers run).
    public var isCurrentThread: Bool { core.isLoopThread }
}
