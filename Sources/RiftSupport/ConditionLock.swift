#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A lock with a condition variable (POSIX `pthread_mutex_t` and `pthread_cond_t`), for a thread that sleeps until
/// another one posts work or a deadline passes: what `NSCondition` gave, without Foundation (the agent keeps Foundation
/// out of its process; docs/performance.md, "Agent memory"). Timed waits use `CLOCK_MONOTONIC`, so setting the wall
/// clock neither cuts a wait short nor stretches it.
///
/// The two pthread objects must not move, so they live in memory allocated here: created in `init`, destroyed in
/// `deinit`. ThreadSanitizer intercepts these calls and sees the lock.
public final class ConditionLock: @unchecked Sendable {  // the pthread objects are made for sharing between threads
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// A new lock, not held. Traps if the C library cannot create it (only with invalid attributes, which these are not).
    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes the lock, waiting for it.
    public func lock() {
        pthread_mutex_lock(mutex)
    }

    /// Releases the lock (held by the calling thread).
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` with the lock held (`wait` may be called in it).
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes one thread waiting in `wait`; call it with the lock held.
    public func signal() {
        pthread_cond_signal(condition)
    }

    /// With the lock held: releases it, sleeps until `signal` or until `milliseconds` have passed, and takes it again.
    /// Returns false when the time ran out. As with any condition variable a wake-up can come without a signal, so the
    /// caller checks its condition again.
    @discardableResult
    public func wait(milliseconds: Int64) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int64(deadline.tv_nsec) + (milliseconds % 1_000) * 1_000_000
        deadline.tv_sec += Int(milliseconds / 1_000 + nanoseconds / 1_000_000_000)
        deadline.tv_nsec = Int(nanoseconds % 1_000_000_000)
        return pthread_cond_timedwait(condition, mutex, &deadline) != ETIMEDOUT
    }
}
