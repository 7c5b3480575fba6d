import Glibc
import RiftSupport

/// The resolver's TCP clients (RFC 7766): each sends queries prefixed by their two-byte length and gets each answer the
/// same way, in order, on the same connection (pipelining, §6.2.1.1), until it closes, stays idle past the deadline,
/// or has asked `maximumQueriesPerConnection` times. Owned by the DNS thread; a client that is slow, silent or sends
/// something that is not a query is closed.
struct DNSStreamClients {
    /// One connection: the bytes not yet answered, when it must have sent its next query, and how many it asked.
    private struct Client {
        var received: [UInt8] = []
        var deadline: ContinuousClock.Instant
        var answered = 0
    }

    private var clients: [Int32: Client] = [:]

    /// The most connections served at once; more are closed at once (only peers and the host reach the resolver).
    static let maximumClients = 16
    /// How long a client may stay silent: after connecting, and after each answer (RFC 7766 §6.2.3: seconds).
    static let deadline: Duration = .seconds(5)
    /// The most queries one connection may ask; then it is closed (the client opens another).
    static let maximumQueriesPerConnection = 100

    /// The connected descriptors, to poll.
    var descriptors: [Int32] { Array(clients.keys) }

    /// Milliseconds until the nearest deadline (at least 0, at most 1 s), or -1 without clients.
    var timeoutMilliseconds: Int32 {
        guard let nearest = clients.values.map(\.deadline).min() else { return -1 }
        let left = nearest - .now
        return Int32(max(0, min(1_000, left.components.seconds * 1_000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)))
    }

    /// Accepts every connection waiting on `listener` (non-blocking, close-on-exec).
    mutating func accept(from listener: Int32) {
        while let client = try? SystemCall.accept(listener, nonBlocking: true) {
            guard clients.count < Self.maximumClients else { _ = Glibc.close(client); continue }
            clients[client] = Client(deadline: .now + Self.deadline)
        }
    }

    /// Reads what `fd` sent and sends `answer(query)` for every complete query, in order. A client that closed,
    /// failed, announced a query longer than `maximumQuery` (or empty), sent something `answer` does not answer (nil),
    /// or reached `maximumQueriesPerConnection`, is closed.
    mutating func read(_ fd: Int32, maximumQuery: Int, answer: ([UInt8]) -> [UInt8]?) {
        guard var client = clients[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 2 + maximumQuery)
        let count: Int
        do { count = try SystemCall.receive(fd, into: &buffer) } catch where error.code == EAGAIN { return } catch { count = 0 }
        guard count > 0 else { return close(fd) }
        client.received += buffer.prefix(count)
        while client.received.count >= 2 {
            let length = Int(client.received[0]) << 8 | Int(client.received[1])
            guard length > 0, length <= maximumQuery else { return close(fd) }
            guard client.received.count >= 2 + length else { break }  // more to come
            let query = Array(client.received[2..<(2 + length)])
            client.received.removeFirst(2 + length)
            guard let reply = answer(query), reply.count <= Int(UInt16.max),
                  Self.send([UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply, to: fd) else { return close(fd) }
            client.answered += 1
            guard client.answered < Self.maximumQueriesPerConnection else { return close(fd) }
            client.deadline = .now + Self.deadline
        }
        clients[fd] = client
    }

    /// Sends a framed answer. Answers are small; a blocking send with a deadline is simpler than polling for
    /// writability (a client that pipelines queries without reading the answers is closed when it times out).
    private static func send(_ framed: [UInt8], to fd: Int32) -> Bool {
        do {
            try SystemCall.setNonBlocking(fd, false)
            try SystemCall.setTimeout(fd, SO_SNDTIMEO, .seconds(2))
            try SystemCall.sendAll(fd, framed)
            try SystemCall.setNonBlocking(fd, true)
            return true
        } catch {
            return false
        }
    }

    private mutating func close(_ fd: Int32) {
        clients[fd] = nil
        _ = Glibc.close(fd)
    }

    /// Closes the clients whose deadline passed.
    mutating func expire() {
        let now = ContinuousClock.now
        for (fd, client) in clients where client.deadline <= now {
            clients[fd] = nil
            _ = Glibc.close(fd)
        }
    }

    /// Closes every client (the thread is ending).
    mutating func closeAll() {
        for fd in clients.keys { _ = Glibc.close(fd) }
        clients = [:]
    }
}
