internal import CRiftLinux
import Foundation
import RiftSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The local control socket: `riftgate status` reads the status, `riftgate down` stops the agent, `riftgate netcheck`
/// reads the network's TURN servers and credentials (`turn`).
///
/// A Unix socket with mode 0660, owned by root and the `riftgate` group when it exists, so other local users can
/// neither read status nor stop the agent. Members of that group may read `status`; `down` and `turn` are accepted only
/// from root or the agent's own user (checked with `SO_PEERCRED`), since stopping the agent is an administrator's act
/// and a TURN credential lets its holder use the relay. One short request per connection: a line (`status`, `down` or
/// `turn`), answered with JSON, then closed.
///
/// One thread serves every client with `poll`, each with its own deadline, so an idle or slow client delays nobody
/// else. `shutdown()` wakes that thread through a pipe and waits for it to end before the socket is closed, so the
/// listening descriptor is never closed under a thread that may be entering `accept`.
final class ControlServer: @unchecked Sendable {  // immutable after init; the thread is joined once, under `stopping`
    private let path: String
    private let listener: Int32
    /// The wake-up pipe: `shutdown()` writes to `wakeWriter`, the thread polls `wake`.
    private let wake: Int32
    private let wakeWriter: Int32
    private let status: @Sendable () -> AgentStatus
    private let onDown: @Sendable () -> Void
    private let turnServers: @Sendable () -> [TURNCredentialSet]
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// The most clients served at once; more are closed at once.
    static let maximumClients = 32
    /// How long a client may take to send its request.
    static let requestDeadline: Duration = .seconds(2)

    /// Binds the socket (replacing a stale one) and starts answering.
    init(path: String, group: String, status: @escaping @Sendable () -> AgentStatus, onDown: @escaping @Sendable () -> Void,
         turnServers: @escaping @Sendable () -> [TURNCredentialSet] = { [] }) throws(AgentError) {
        self.path = path
        self.status = status
        self.onDown = onDown
        self.turnServers = turnServers
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw AgentError.system("control socket: \(String(cString: strerror(errno)))") }
        var address = UnixAddress(path)
        guard let length = address.length else { close(fd); throw AgentError.configuration("control socket path is too long: \(path)") }
        let oldMask = umask(0o117)
        let bound = address.withSockaddr { bind(fd, $0, length) }
        umask(oldMask)
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("cannot listen on \(path): \(reason)")
        }
        chmod(path, 0o660)
        if let entry = getgrnam(group) { chown(path, uid_t.max, entry.pointee.gr_gid) }  // uid -1: keep the owner
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("control socket wake-up pipe: \(reason)")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        listener = fd
        wake = ends[0]
        wakeWriter = ends[1]
        do {
            try JoinableThread.spawn(name: "riftgate-control") { [self] in
                serve()
                finished.signal()
            }.detach()
        } catch {
            for descriptor in [fd, ends[0], ends[1]] { close(descriptor) }
            unlink(path)
            throw AgentError.system("control socket thread: \(error)")
        }
    }

    /// Stops answering, waits for the serving thread to end, then closes the socket and removes its file. Idempotent;
    /// never call it from the control thread itself (`onDown` only posts an event, so the runtime calls it elsewhere).
    func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? SystemCall.writeAll(wakeWriter, [1])
        finished.wait()
        close(listener)
        close(wake)
        close(wakeWriter)
        unlink(path)
    }

    /// One connected client: what it sent so far and until when it may send the rest.
    private struct Client {
        var request: [UInt8] = []
        let deadline: ContinuousClock.Instant
    }

    private func serve() {
        var clients: [Int32: Client] = [:]
        defer { for fd in clients.keys { close(fd) } }
        while !stopping.load(ordering: .acquiring) {
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            descriptors += clients.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let now = ContinuousClock.now
            let nearest = clients.values.map(\.deadline).min()
            let timeout = nearest.map { Int32(max(0, min(1_000, ($0 - now).components.seconds * 1_000 + 1))) } ?? -1
            guard (try? SystemCall.retrying("poll") { poll(&descriptors, nfds_t(descriptors.count), timeout) }) != nil else { return }
            if descriptors[1].revents != 0 { return }
            if descriptors[0].revents & Int16(POLLIN) != 0 { acceptClients(into: &clients) }
            for descriptor in descriptors.dropFirst(2) where descriptor.revents != 0 {
                read(from: descriptor.fd, in: &clients)
            }
            let expired = clients.filter { ContinuousClock.now >= $0.value.deadline }.map(\.key)
            for fd in expired {
                clients[fd] = nil
                close(fd)
            }
        }
    }

    private func acceptClients(into clients: inout [Int32: Client]) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if errno == EINTR { continue } else { return } }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            guard clients.count < Self.maximumClients else { close(client); continue }
            clients[client] = Client(deadline: .now + Self.requestDeadline)
        }
    }

    /// Reads what the client sent; a complete line (or end of input, or 64 bytes) is answered and the client closed.
    private func read(from fd: Int32, in clients: inout [Int32: Client]) {
        guard var client = clients[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = Glibc.read(fd, &buffer, buffer.count)
        if count < 0, errno == EAGAIN || errno == EINTR { return }
        if count > 0 { client.request += buffer[0..<count] }
        guard count <= 0 || client.request.contains(0x0A) || client.request.count >= 64 else {
            clients[fd] = client
            return
        }
        clients[fd] = nil
        let line = String(decoding: client.request.prefix { $0 != 0x0A }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        answer(line, on: fd)
        close(fd)
    }

    private func answer(_ request: String, on fd: Int32) {
        let reply: Data
        var stop = false
        switch request {
        case "status":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            reply = (try? encoder.encode(status())) ?? Data("{}".utf8)
        case "down" where Self.mayStop(fd):
            reply = Data(#"{"stopping":true}"#.utf8)
            stop = true
        case "down":
            reply = Data(#"{"error":"only root (or the agent's own user) may stop the agent; status is open to the control group"}"#.utf8)
        case "turn" where Self.mayStop(fd):
            reply = (try? JSONEncoder().encode(TURNCredentialSet.Reply(turn: turnServers()))) ?? Data(#"{"turn":[]}"#.utf8)
        case "turn":
            reply = Data(#"{"error":"only root (or the agent's own user) may read the TURN credentials"}"#.utf8)
        default:
            reply = Data(#"{"error":"unknown request; use status, down or turn"}"#.utf8)
        }
        // The reply is small; a blocking write with a deadline is simpler than polling for writability.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~Int32(O_NONBLOCK))
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try? SystemCall.sendAll(fd, reply + [0x0A])
        if stop { onDown() }
    }

    /// Whether the client is root or runs as this agent's user.
    static func mayStop(_ fd: Int32) -> Bool {
        var uid: UInt32 = 0
        guard CRiftLinux_peer_uid(fd, &uid) == 0 else { return false }
        return uid == 0 || uid == getuid()
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
