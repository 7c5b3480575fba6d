import Foundation
import RiftCrypto
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// The hub's state directory: its long-term key (`hub.key`) and its database (`hub.db`).
public struct StateDirectory: Sendable, Hashable {
    /// The directory.
    public var path: String

    /// Creates a reference to a state directory (nothing is touched until `prepare`).
    public init(path: String) { self.path = path }

    /// `/var/lib/riftgate-hub` for root; otherwise `$XDG_STATE_HOME/riftgate-hub` or `~/.local/state/riftgate-hub`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment, isRoot: Bool = geteuid() == 0) -> String {
        if isRoot { return "/var/lib/riftgate-hub" }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/riftgate-hub" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/riftgate-hub"
    }

    /// The default database file.
    public var databasePath: String { path + "/hub.db" }

    /// The hub key file.
    public var hubKeyPath: String { path + "/hub.key" }

    /// Creates the directory with mode 0700 and missing parents with mode 0755, whatever the umask (with umask 000 a
    /// plain recursive create would leave parents writable by everyone). Fails with the system's reason.
    public func prepare() throws(ConfigurationError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            let isLast = index == components.count - 1
            let mode: mode_t = isLast ? 0o700 : 0o755
            if mkdir(prefix, mode) == 0 {
                chmod(prefix, mode)  // mkdir applies the umask, which may have removed bits we want (never added any)
                continue
            }
            let code = errno
            var status = stat()
            guard code == EEXIST, stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw ConfigurationError("cannot create state directory \(path): \(SystemCallError.reason(for: code)) (at \(prefix))")
            }
        }
    }

    /// Reads the hub's X25519 key, creating it on first start: written to a temporary file with mode
    /// 0600, synced and renamed into place, so a crash never leaves a half-written key.
    ///
    /// Fails when the file cannot be read or written, does not hold a key, or is readable by others.
    public func loadOrCreateHubKey() throws(ConfigurationError) -> (key: PrivateKey, created: Bool) {
        let keyPath = hubKeyPath
        var status = stat()
        if stat(keyPath, &status) == 0 {
            guard status.st_mode & 0o077 == 0 else {
                throw ConfigurationError("\(keyPath) is accessible by other users; run chmod 600 \(keyPath)")
            }
            guard let data = FileManager.default.contents(atPath: keyPath) else { throw ConfigurationError("cannot read \(keyPath)") }
            do {
                return (try PrivateKey(base64: String(decoding: data, as: UTF8.self)), false)
            } catch {
                throw ConfigurationError("\(keyPath) does not hold a base64 X25519 private key")
            }
        }
        let key = PrivateKey.generate()
        try Self.writePrivateFile(keyPath, contents: key.base64 + "\n")
        return (key, true)
    }

    /// Writes `contents` to `path` atomically with mode 0600.
    static func writePrivateFile(_ path: String, contents: String) throws(ConfigurationError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ConfigurationError("cannot create \(temporary): \(SystemCallError.reason(for: errno))") }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = SystemCallError.reason(for: errno)
            unlink(temporary)
            throw ConfigurationError("cannot write \(path): \(reason)")
        }
    }
}
