internal import CRiftLinux
import FoundationEssentials
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
/// else. `shutdown()` wakes that thread (a `PollingThread`) and waits for it to end before the socket is closed, so the
/// listening descriptor is never closed under a thread that may be entering `accept`.
final class ControlServer: @unchecked Sendable {  // immutable after init (`thread` is set once, in init); shut down once, under `stopping`
    private let path: String
    private let listener: OwnedDescriptor
    private var thread: PollingThread?
    private let status: @Sendable () -> AgentStatus
    private let onDown: @Sendable () -> Void
    private let turnServers: @Sendable () -> [TURNCredentialSet]
    private let stopping = Atomic<Bool>(false)

    /// The most clients served at once; more are closed at once.
    static let maximumClients = 32
    /// How long a client may take to send its request.
    static let requestDeadline: Duration = .seconds(2)

    /// Binds the socket (replacing a stale one) and starts answering. Fails when an agent already answers on `path`:
    /// two agents of one configuration would fight over its interface.
    init(path: String, group: String, status: @escaping @Sendable () -> AgentStatus, onDown: @escaping @Sendable () -> Void,
         turnServers: @escaping @Sendable () -> [TURNCredentialSet] = { [] }) throws(AgentError) {
        self.path = path
        self.status = status
        self.onDown = onDown
        self.turnServers = turnServers
        try? FileManager.default.createDirectory(atPath: FilePathText.directory(of: path), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        if Self.answers(path) {
            throw AgentError.system("another riftgate agent of this configuration is running (it answers on \(path)); "
                                    + "stop it first with `riftgate down`")
        }
        unlink(path)
        do {
            listener = OwnedDescriptor(try SystemCall.socket(AF_UNIX, .stream, nonBlocking: true))
        } catch {
            throw AgentError.system("control socket: \(error.reason)")
        }
        guard let address = SocketAddress(unixPath: path) else { throw AgentError.configuration("control socket path is too long: \(path)") }
        let oldMask = umask(0o117)
        do {
            try SystemCall.bind(listener.rawValue, to: address)
            umask(oldMask)
            try SystemCall.listen(listener.rawValue, backlog: 16)
        } catch {
            umask(oldMask)
            throw AgentError.system("cannot listen on \(path): \(error.reason)")
        }
        chmod(path, 0o660)
        if let entry = getgrnam(group) { chown(path, uid_t.max, entry.pointee.gr_gid) }  // uid -1: keep the owner
        do {
            thread = try PollingThread(name: "riftgate-control") { [self] waiter in serve(waiter) }
        } catch {
            unlink(path)
            throw AgentError.system("control socket thread: \(error)")
        }
    }

    /// Whether something accepts connections on the Unix socket `path` (a running agent); false for a stale file.
    private static func answers(_ path: String) -> Bool {
        guard let address = SocketAddress(unixPath: path),
              let probe = try? OwnedDescriptor(SystemCall.socket(AF_UNIX, .stream)) else { return false }
        return (try? SystemCall.connect(probe.rawValue, to: address)) != nil
    }

    /// Stops answering, waits for the serving thread to end, then closes the socket and removes its file. Idempotent;
    /// never call it from the control thread itself (`onDown` only posts an event, so the runtime calls it elsewhere).
    func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        thread?.stop()
        listener.close()
        unlink(path)
    }

    /// One connected client: what it sent so far and until when it may send the rest.
    private struct Client {
        var request: [UInt8] = []
        let deadline: ContinuousClock.Instant
    }

    private func serve(_ waiter: PollingThread.Waiter) {
        var clients: [Int32: Client] = [:]
        defer { for fd in clients.keys { close(fd) } }
        while true {
            var descriptors = [pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0)]
            descriptors += clients.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let now = ContinuousClock.now
            let nearest = clients.values.map(\.deadline).min()
            let timeout = nearest.map { Int32(max(0, min(1_000, ($0 - now).components.seconds * 1_000 + 1))) } ?? -1
            guard let ready = waiter.wait(for: descriptors, timeoutMilliseconds: timeout) else { return }
            if ready[0].revents & Int16(POLLIN) != 0 { acceptClients(into: &clients) }
            for descriptor in ready.dropFirst() where descriptor.revents != 0 {
                read(from: descriptor.fd, in: &clients)
            }
            let expired = clients.filter { ContinuousClock.now >= $0.value.deadline }.map(\.key)
            for fd in expired {
                clients[fd] = nil
                close(fd)
            }
        }
    }

    /// Accepts every waiting connection (non-blocking, close-on-exec); beyond `maximumClients` they are closed at once.
    private func acceptClients(into clients: inout [Int32: Client]) {
        while let client = try? SystemCall.accept(listener.rawValue, nonBlocking: true) {
            guard clients.count < Self.maximumClients else { close(client); continue }
            clients[client] = Client(deadline: .now + Self.requestDeadline)
        }
    }

    /// Reads what the client sent; a complete line (or end of input, or 64 bytes) is answered and the client closed.
    private func read(from fd: Int32, in clients: inout [Int32: Client]) {
        guard var client = clients[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count: Int
        do { count = try SystemCall.read(fd, into: &buffer) } catch where error.code == EAGAIN { return } catch { count = -1 }
        if count > 0 { client.request += buffer[0..<count] }
        guard count <= 0 || client.request.contains(0x0A) || client.request.count >= 64 else {
            clients[fd] = client
            return
        }
        clients[fd] = nil
        let line = String(decoding: client.request.prefix { $0 != 0x0A }, as: UTF8.self).trimmingWhitespace()
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
        try? SystemCall.setNonBlocking(fd, false)
        try? SystemCall.setTimeout(fd, SO_SNDTIMEO, .seconds(2))
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
