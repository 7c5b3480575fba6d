internal import CRiftNice
import Dispatch
import RiftSupport
import Synchronization

/// The private `GMainContext` and `GMainLoop` behind an `ICEEventLoop`, and the bookkeeping of its thread.
///
/// Owns one context and one loop (created in `init`, unreferenced in `deinit`); the loop thread holds a
/// reference to this object while it runs, and libnice agents hold their own references to the context.
/// Members marked "loop thread only" are touched by nothing else, which is what makes the
/// `@unchecked Sendable` sound.
final class MainContextThread: @unchecked Sendable {
    /// The `GMainContext*` every agent of this loop is created with.
    let context: OpaquePointer
    private let mainLoop: OpaquePointer
    /// Whether `submit` still accepts work. Checked and changed under the lock, so work accepted before
    /// `requestStop` is queued ahead of the stop and runs before the loop ends.
    private let accepting = Locked(true)

    // Loop thread only.
    private var stopRequested = false
    private var liveAgents = 0
    private var openAgents: [ObjectIdentifier: NiceAgentSession] = [:]
    /// Sessions whose receive flush runs at the end of this loop iteration, in the order they received.
    private var flushQueue: [NiceAgentSession] = []
    /// The source that runs `flushQueue`: ready whenever the queue is not empty (see `FlushSource`).
    private var flushSource: UnsafeMutablePointer<GSource>?

    /// How long shutdown waits for closing agents to release their TURN allocations.
    static let closeGracePeriodMilliseconds: UInt32 = 2000

    init() {
        context = g_main_context_new()
        mainLoop = g_main_loop_new(context, 0)
        flushQueue.reserveCapacity(64)
        flushSource = FlushSource.attach(to: context, owner: Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if let flushSource {
            g_source_destroy(flushSource)
            g_source_unref(flushSource)
        }
        g_main_loop_unref(mainLoop)
        g_main_context_unref(context)
    }

    /// Whether the caller is running on the loop thread.
    var isLoopThread: Bool { g_main_context_is_owner(context) != 0 }

    /// The body of the loop thread: owns the context and makes it the thread-default one (libnice's
    /// asynchronous close reports back on the thread-default context), then runs until stopped.
    func run() {
        _ = g_main_context_acquire(context)
        g_main_context_push_thread_default(context)
        g_main_loop_run(mainLoop)
        g_main_context_pop_thread_default(context)
        g_main_context_release(context)
    }

    /// Runs `work` on the loop thread: at once when called there, otherwise queued in order. Returns false,
    /// without running it, once the loop is stopping.
    @discardableResult
    func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        if isLoopThread {
            guard !stopRequested else { return false }
            work()
            return true
        }
        return accepting.withLock { accepting in
            guard accepting else { return false }
            enqueue(work)
            return true
        }
    }

    /// Runs `body` on the loop thread and returns its result: inline when already there, otherwise waiting
    /// for the loop. Throws `loopStopped` when the loop no longer accepts work.
    func performAndWait<T>(_ body: @escaping @Sendable () throws(ICEError) -> T) throws(ICEError) -> T {
        if isLoopThread {
            guard !stopRequested else { throw ICEError(.loopStopped, "the ICE event loop was shut down") }
            return try body()
        }
        let reply = Reply<T>()
        let queued = submit {
            reply.result = Result { () throws(ICEError) -> T in try body() }
            reply.done.signal()
        }
        guard queued else { throw ICEError(.loopStopped, "the ICE event loop was shut down") }
        reply.done.wait()
        return try reply.result!.get()
    }

    /// Stops accepting work and queues the stop: open agents are closed, and the loop quits once they are
    /// finalized or after the grace period. Returns at once; the loop thread ends afterwards.
    func requestStop() {
        let stop: @Sendable () -> Void = { [self] in
            guard !stopRequested else { return }
            stopRequested = true
            for agent in Array(openAgents.values) { agent.closeOnLoop() }
            if liveAgents == 0 { g_main_loop_quit(mainLoop); return }
            let timer = g_timeout_source_new(Self.closeGracePeriodMilliseconds)
            g_source_set_callback(timer, { data in
                g_main_loop_quit(Unmanaged<MainContextThread>.fromOpaque(data!).takeUnretainedValue().mainLoop)
                return 0
            }, Unmanaged.passUnretained(self).toOpaque(), nil)
            _ = g_source_attach(timer, context)
            g_source_unref(timer)
        }
        if isLoopThread {
            accepting.withLock { $0 = false }
            stop()
        } else {
            accepting.withLock { accepting in
                accepting = false
                enqueue(stop)
            }
        }
    }

    /// Records a new agent (loop thread only); `agentFinalized` balances it when GLib frees the object.
    func agentOpened(_ session: NiceAgentSession) {
        liveAgents += 1
        openAgents[ObjectIdentifier(session)] = session
    }

    /// Forgets a session that has started closing (loop thread only).
    func agentClosing(_ session: NiceAgentSession) {
        openAgents[ObjectIdentifier(session)] = nil
    }

    /// Called from the agent's GObject weak-reference notification, on the thread of its last unref (the loop
    /// thread). Ends a pending stop once no agent is left.
    func agentFinalized() {
        liveAgents -= 1
        if stopRequested && liveAgents == 0 { g_main_loop_quit(mainLoop) }
    }

    /// Queues `session`'s receive flush for the end of this loop iteration (loop thread only).
    func queueReceiveFlush(_ session: NiceAgentSession) {
        flushQueue.append(session)
    }

    /// Whether a receive flush is queued (loop thread only; the flush source's readiness).
    var hasQueuedFlush: Bool { !flushQueue.isEmpty }

    /// Runs every queued receive flush (loop thread only; the flush source's dispatch). The queue keeps its
    /// capacity, so a steady flow costs no allocation.
    func runQueuedFlushes() {
        var index = 0
        while index < flushQueue.count {
            flushQueue[index].runReceiveFlush()
            index += 1
        }
        flushQueue.removeAll(keepingCapacity: true)
    }

    /// The number of agents created on this loop and not yet freed by GLib (loop thread only; tests use it
    /// to prove `close` releases the agent).
    var liveAgentCount: Int { liveAgents }

    /// Queues `work` as a one-shot source at default priority. Sources of equal priority dispatch in the
    /// order they were attached, which keeps submitted work in order.
    private func enqueue(_ work: @escaping @Sendable () -> Void) {
        let item = WorkItem(work)
        item.published.store(true, ordering: .releasing)
        g_main_context_invoke_full(context, 0, { data in
            let item = Unmanaged<WorkItem>.fromOpaque(data!).takeUnretainedValue()
            _ = item.published.load(ordering: .acquiring)
            item.work()
            return 0
        }, Unmanaged.passRetained(item).toOpaque(), { data in Unmanaged<WorkItem>.fromOpaque(data!).release() })
    }
}

/// A closure handed to GLib as source data: retained once when queued, released by GLib's destroy notify.
private final class WorkItem: Sendable {
    let work: @Sendable () -> Void
    /// GLib's locking orders the hand-over to the loop thread, but ThreadSanitizer cannot see inside GLib;
    /// this release/acquire pair states the same ordering in terms it checks.
    let published = Atomic(false)
    init(_ work: @escaping @Sendable () -> Void) { self.work = work }
}

/// The result of work run for a waiting thread; the semaphore orders the write before the read.
private final class Reply<T>: @unchecked Sendable {
    var result: Result<T, ICEError>?
    let done = DispatchSemaphore(value: 0)
}
