import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The local control socket: `riftgate status` reads the status, `riftgate down` stops the agent.
///
/// A Unix socket with mode 0660, owned by root and the `riftgate` group when it exists, so other local users can
/// neither read status nor stop the agent. One short request per connection: a line (`status` or `down`), answered
/// with JSON, then closed. Runs on its own thread.
final class ControlServer: @unchecked Sendable {
    private let path: String
    private let descriptor: Int32
    private let status: @Sendable () -> AgentStatus
    private let onDown: @Sendable () -> Void
    private let running = Atomic<Bool>(true)

    /// Binds the socket (replacing a stale one) and starts answering.
    init(path: String, group: String, status: @escaping @Sendable () -> AgentStatus, onDown: @escaping @Sendable () -> Void) throws(AgentError) {
        self.path = path
        self.status = status
        self.onDown = onDown
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AgentError.system("control socket: \(String(cString: strerror(errno)))") }
        var address = UnixAddress(path)
        guard let length = address.length else { close(fd); throw AgentError.configuration("control socket path is too long: \(path)") }
        let oldMask = umask(0o117)
        let bound = address.withSockaddr { bind(fd, $0, length) }
        umask(oldMask)
        guard bound == 0, listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("cannot listen on \(path): \(reason)")
        }
        chmod(path, 0o660)
        if let entry = getgrnam(group) { chown(path, uid_t.max, entry.pointee.gr_gid) }  // uid -1: keep the owner
        descriptor = fd
        let thread = Thread { [self] in serve() }
        thread.name = "riftgate-control"
        thread.start()
    }

    /// Stops answering and removes the socket file.
    func shutdown() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    private func serve() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        while running.load(ordering: .acquiring) {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { if errno == EINTR { continue } else { return } }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(client, &buffer, buffer.count)
            let request = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            var reply: Data
            switch request {
            case "status": reply = (try? encoder.encode(status())) ?? Data("{}".utf8)
            case "down": reply = Data(#"{"stopping":true}"#.utf8)
            default: reply = Data(#"{"error":"unknown request; use status or down"}"#.utf8)
            }
            reply.append(0x0A)
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            close(client)
            if request == "down" { onDown() }
        }
    }
}

/// A `sockaddr_un` for a filesystem path.
struct UnixAddress {
    private var storage = sockaddr_un()

    init(_ path: String) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < capacity else { storage.sun_path.0 = 0; valid = false; return }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        valid = true
    }

    private var valid: Bool

    /// The address length to pass to bind/connect, or nil if the path did not fit.
    var length: socklen_t? { valid ? socklen_t(MemoryLayout<sockaddr_un>.size) : nil }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>) -> T) -> T {
        withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    }
}
