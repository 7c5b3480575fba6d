import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// How a state directory is held: shared by every hub serving from its SQLite database, exclusively by
/// `riftgate-hub migrate` while it copies that database (`flock(2)` on `<state dir>/serving.lock`).
///
/// Shared, because several cluster members may serve from one state directory (a test does); the lock is
/// released by the kernel when the process ends, however it ends, so a crashed hub leaves nothing stale behind.
public enum StateDirectoryLock: Sendable {
    /// A hub serving from the directory's database.
    case serving
    /// A migration copying the directory's database elsewhere.
    case migrating
}

extension StateDirectory {
    /// The file `flock(2)` is taken on; it holds nothing.
    public var lockPath: String { path + "/serving.lock" }

    /// Takes `kind` of lock without waiting and returns the descriptor that holds it (the lock lasts as long as the
    /// descriptor is open).
    ///
    /// Fails when the other kind is held: a hub cannot start while a migration copies its database, and a migration
    /// refuses a directory a hub is serving from. Fails too when the lock file cannot be created.
    public func lock(_ kind: StateDirectoryLock) throws(ConfigurationError) -> OwnedDescriptor {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError("cannot open \(lockPath): \(SystemCallError.reason(for: errno))")
        }
        let owned = OwnedDescriptor(descriptor)
        do {
            try SystemCall.retrying("flock") { flock(descriptor, (kind == .serving ? LOCK_SH : LOCK_EX) | LOCK_NB) }
        } catch where error.code == EWOULDBLOCK {
            switch kind {
            case .serving:
                throw ConfigurationError("riftgate-hub migrate is copying the database of \(path); start the hub once it has finished")
            case .migrating:
                throw ConfigurationError("a hub is serving from \(path) (it holds \(lockPath)); stop it before migrating its state, so that nothing changes during the copy")
            }
        } catch {
            throw ConfigurationError("cannot lock \(lockPath): \(error.reason)")
        }
        return owned
    }
}
