import Glibc
import RiftSupport

/// The resolver's TCP clients (RFC 7766): each sends one query prefixed by its two-byte length, gets the answer the same
/// way, and is closed. Owned by the DNS thread; a client that is slow, silent or sends more than a query is closed.
struct DNSStreamClients {
    /// One connection: the bytes so far and when it must have sent its query.
    private struct Client {
        var received: [UInt8] = []
        let deadline: ContinuousClock.Instant
    }

    private var clients: [Int32: Client] = [:]

    /// The most connections served at once; more are closed at once (only peers and the host reach the resolver).
    static let maximumClients = 16
    /// How long a client may take to send its query.
    static let deadline: Duration = .seconds(5)

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

    /// Reads what `fd` sent; once its query is complete, sends `answer(query)` (nothing when nil) and closes it. A
    /// client that closed, failed or announced a query longer than `maximumQuery` is closed.
    mutating func read(_ fd: Int32, maximumQuery: Int, answer: ([UInt8]) -> [UInt8]?) {
        guard var client = clients[fd] else { return }
        var buffer = [UInt8](repeating: 0, count: 2 + maximumQuery - client.received.count)
        let count: Int
        do { count = try SystemCall.receive(fd, into: &buffer) } catch where error.code == EAGAIN { return } catch { count = 0 }
        client.received += buffer.prefix(max(0, count))
        let length = client.received.count >= 2 ? Int(client.received[0]) << 8 | Int(client.received[1]) : nil
        if count > 0, let length, length <= maximumQuery, client.received.count < 2 + length {
            clients[fd] = client  // more to come
            return
        }
        if count > 0, client.received.count < 2 {
            clients[fd] = client
            return
        }
        clients[fd] = nil
        defer { _ = Glibc.close(fd) }
        // A second query pipelined behind the first is not answered: the client asks again on a new connection.
        guard let length, length <= maximumQuery, client.received.count >= 2 + length,
              let reply = answer(Array(client.received[2..<(2 + length)])), reply.count <= Int(UInt16.max) else { return }
        // The reply is small; a blocking send with a deadline is simpler than polling for writability.
        try? SystemCall.setNonBlocking(fd, false)
        try? SystemCall.setTimeout(fd, SO_SNDTIMEO, .seconds(2))
        try? SystemCall.sendAll(fd, [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply)
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
