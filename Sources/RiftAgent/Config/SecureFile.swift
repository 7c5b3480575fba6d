import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Files the agent writes and the permission rules it enforces on them.
enum SecureFile {
    /// Writes `text` to `path` atomically with `mode`: a temporary file in the same directory, fsync, rename.
    /// A running reader never sees a half-written file, and replacing a busy file cannot fail with ETXTBSY.
    static func write(_ text: String, to path: String, mode: mode_t) throws(AgentError) {
        let directory = FilePathText.directory(of: path)
        do {
            try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
        } catch {
            throw AgentError.system("cannot create \(directory): \(FileErrorReason.text(error))")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw AgentError.system("cannot write \(temporary): \(SystemCallError.reason(for: errno))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        fchmod(fd, mode)  // the umask may have narrowed or widened what open() set
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = SystemCallError.reason(for: errno)
            unlink(temporary)
            throw AgentError.system("cannot write \(path): \(reason)")
        }
    }

    /// Fails unless `path` exists and is not readable or writable by group or others.
    static func checkPrivate(_ path: String) throws(AgentError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AgentError.configuration("cannot read \(path): \(SystemCallError.reason(for: errno)). Run `riftgate init` first.")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw AgentError.configuration(
                "\(path) holds the private key and token but is accessible by others (mode \(String(info.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)")
        }
    }
}
