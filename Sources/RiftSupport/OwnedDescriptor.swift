import Glibc
import Synchronization

/// Owns one file descriptor and closes it exactly once: at `close()` or when the owner is freed, whichever comes first.
///
/// Holders keep the object, not the number, alive, so a descriptor is never closed (and its number reused by another
/// open) under a thread still reading it. `close` is thread-safe and idempotent; after it, `rawValue` is stale.
public final class OwnedDescriptor: Sendable {
    /// The descriptor number.
    public let rawValue: Int32
    private let closed = Atomic<Bool>(false)

    /// Takes ownership of `rawValue`.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Closes the descriptor now (once; later calls do nothing). Not retried on `EINTR`: on Linux the descriptor is
    /// released even then, and a retry could close a number another thread has just been given.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Glibc.close(rawValue)
    }

    deinit { close() }
}
