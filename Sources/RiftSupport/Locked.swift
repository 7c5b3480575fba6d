import CRiftTSan
import Synchronization

/// A value protected by a lock: `Synchronization.Mutex` that ThreadSanitizer can see.
///
/// Every lock in riftgate is one of these, not a bare `Mutex`: `Mutex` waits with futex system calls that
/// ThreadSanitizer does not intercept, so under `make tsan-test` every access made inside `Mutex.withLock` was reported
/// as a race with the previous holder's (Tests/sanitizers/MutexRepro.swift), and real races could not be told apart.
/// `Locked` tells TSan that the holder acquired and released the lock (`CRiftTSan`; a call to an empty C function in
/// ordinary builds). Same `withLock` as `Mutex`; a class, so its identity names the lock for TSan.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: Mutex<Value>

    /// A lock around `initialValue`.
    public init(_ initialValue: sending Value) {
        mutex = Mutex(initialValue)
    }

    /// Runs `body` with exclusive access to the value and returns its result.
    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let identity = UInt(bitPattern: ObjectIdentifier(self))
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            CRiftTSan_acquire(identity)
            defer { CRiftTSan_release(identity) }
            return try body(&value)
        }
    }
}
