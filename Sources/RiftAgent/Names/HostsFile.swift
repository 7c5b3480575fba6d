import Glibc
import RiftSupport

/// Reads and rewrites a hosts file in place, under an advisory lock (`flock`), so that two agents on one machine
/// (different interfaces, different blocks) never lose each other's change.
///
/// In place, not write-and-rename: /etc/hosts is often a bind mount (containers; `ip netns exec` mounts
/// /etc/netns/<ns>/hosts over it), where a rename over it fails with EBUSY, and writing in place also keeps the file's
/// owner, mode, ACLs and SELinux label without having to copy them. Only the bytes from the first difference on are
/// written, then the file is truncated to its new length and synced. The cost: a crash in the microseconds between
/// the write and the truncation leaves a few stale bytes at the end of a shrinking file.
enum HostsFile {
    /// How long to wait for another writer's lock before giving up (the other writer only holds it for one rewrite).
    static let lockTimeout: Duration = .seconds(5)

    /// Replaces the file's bytes with `transform(bytes)`; writes nothing when they are unchanged. A missing file counts
    /// as empty and is created (mode 0644) only when there is something to write. Returns whether the file changed;
    /// throws `AgentError.system` naming the file when it cannot be read, locked or written.
    @discardableResult
    static func edit(_ path: String, _ transform: ([UInt8]) -> [UInt8]) throws(AgentError) -> Bool {
        for _ in 0..<5 {
            let descriptor: Int32
            do {
                descriptor = try SystemCall.retrying("open") { open(path, O_RDWR | O_CLOEXEC) }
            } catch where error.code == ENOENT {
                guard !transform([]).isEmpty else { return false }
                if let created = try? SystemCall.retrying("open", { open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }) {
                    fchmod(created, 0o644)  // every user's lookups read it, whatever the agent's umask (the unit's is 0077)
                    close(created)
                }
                continue  // opened again, locked and read like any file (another agent may have created it first)
            } catch {
                throw failure(path, "cannot open", error)
            }
            let file = OwnedDescriptor(descriptor)
            defer { file.close() }
            do {
                try lock(descriptor)
                // Someone replaced the file (an editor's rename) between our open and our lock: start again on the new one.
                guard try sameFile(descriptor, path) else { continue }
                let old = try readAll(descriptor)
                let new = transform(old)
                guard new != old else { return false }
                let common = zip(old, new).prefix { $0 == $1 }.count
                try SystemCall.retrying("lseek") { lseek(descriptor, off_t(common), SEEK_SET) }
                try SystemCall.writeAll(descriptor, new[common...])
                try SystemCall.retrying("ftruncate") { ftruncate(descriptor, off_t(new.count)) }
                try SystemCall.retrying("fsync") { fsync(descriptor) }
                return true
            } catch {
                throw failure(path, "cannot rewrite", error)
            }
        }
        throw AgentError.system("cannot rewrite \(path): it keeps being replaced while riftgate edits it")
    }

    /// The file's bytes (empty when it does not exist).
    static func read(_ path: String) throws(AgentError) -> [UInt8] {
        let descriptor: Int32
        do { descriptor = try SystemCall.retrying("open") { open(path, O_RDONLY | O_CLOEXEC) } } catch where error.code == ENOENT {
            return []
        } catch {
            throw failure(path, "cannot open", error)
        }
        let file = OwnedDescriptor(descriptor)
        defer { file.close() }
        do { return try readAll(descriptor) } catch { throw failure(path, "cannot read", error) }
    }

    /// Takes the exclusive lock, polling so that the wait is bounded by `lockTimeout`.
    private static func lock(_ descriptor: Int32) throws(SystemCallError) {
        let deadline = ContinuousClock.now + lockTimeout
        while true {
            do {
                try SystemCall.retrying("flock") { flock(descriptor, LOCK_EX | LOCK_NB) }
                return
            } catch where error.code == EWOULDBLOCK && ContinuousClock.now < deadline {
                usleep(20_000)
            }
        }
    }

    private static func sameFile(_ descriptor: Int32, _ path: String) throws(SystemCallError) -> Bool {
        var opened = stat(), named = stat()
        try SystemCall.retrying("fstat") { fstat(descriptor, &opened) }
        guard (try? SystemCall.retrying("stat", { stat(path, &named) })) != nil else { return false }
        return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    private static func readAll(_ descriptor: Int32) throws(SystemCallError) -> [UInt8] {
        try SystemCall.retrying("lseek") { lseek(descriptor, 0, SEEK_SET) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try SystemCall.read(descriptor, into: &buffer)
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
    }

    private static func failure(_ path: String, _ what: String, _ error: SystemCallError) -> AgentError {
        AgentError.system("\(what) \(path): \(error)")
    }
}
