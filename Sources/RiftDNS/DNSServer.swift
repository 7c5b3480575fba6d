import Glibc
import Logging
import RiftSupport

/// The agent's resolver for peers' names: answers DNS queries over UDP on given addresses from a `DNSZone`, which
/// `update` replaces at any moment (a peer joined, left or was renamed).
///
/// One `PollingThread` (`riftgate-dns`) reads every socket and answers each datagram at once; the zone is read under
/// a lock, so an answer comes from one zone or the next, never a mix. Datagrams ldns cannot read, and responses, are
/// dropped; everything outside the zone is REFUSED (`DNSZone`), never forwarded.
///
/// No rate limit per source: the agent binds it to its own overlay addresses, which only peers of the network (through
/// WireGuard, each authenticated by its key) and the host itself reach, and every answer is no larger than its query
/// plus two records, so it cannot amplify an attack on a third party either.
///
/// UDP only: no answer is ever larger than 512 bytes (a name has at most one A and one AAAA record), so a client never
/// needs TCP; an answer that would not fit is sent truncated (TC) all the same.
public final class DNSServer: @unchecked Sendable {  // `sockets` and `listening` set in init, `thread` once in init; zone under its lock
    private let sockets: [OwnedDescriptor]
    private let zone: Locked<DNSZone>
    private let logger: Logger
    private var thread: PollingThread?
    private let stopped = Locked(false)

    /// Where it answers: `host:port` of each socket (`[fd00::1]:53` for IPv6), in the order of `bindAddresses`.
    public let listening: [String]

    /// The largest query read; a longer datagram is cut and then unreadable (DNS queries are tens of bytes).
    static let maximumQuerySize = 4096
    /// The most datagrams answered from one socket before the others get their turn.
    static let batch = 64

    /// Binds a UDP socket on each of `bindAddresses` (numeric IPv4 or IPv6) at `port` (0: an ephemeral port, for tests)
    /// and starts answering from `zone`. With `allowNonLocal` (`IP_FREEBIND`), an address the host does not have yet —
    /// the WireGuard interface's, just before it is up — is bound all the same. Fails (nothing left open) when an
    /// address is not numeric, a socket cannot be bound (the port is taken: another resolver listens there) or the
    /// thread cannot start.
    public init(bindAddresses: [String], port: UInt16 = 53, zone: DNSZone, logger: Logger, allowNonLocal: Bool = true) throws(DNSError) {
        var sockets: [OwnedDescriptor] = []
        var listening: [String] = []
        for host in bindAddresses {
            guard let address = (try? SystemCall.resolve(host, port: port, type: .datagram, numeric: true))?.first else {
                throw DNSError("\(host) is not an IP address")
            }
            let text = Self.text(address, fallback: host)
            do {
                let socket = OwnedDescriptor(try SystemCall.socket(address.family, .datagram, nonBlocking: true))
                if allowNonLocal { try? SystemCall.allowNonLocalBind(socket.rawValue) }  // without it, bind says why
                try SystemCall.bind(socket.rawValue, to: address)
                sockets.append(socket)
                listening.append(Self.text(try SystemCall.localAddress(socket.rawValue), fallback: text))
            } catch {
                throw DNSError("cannot listen on \(text) (UDP)", error)
            }
        }
        self.sockets = sockets
        self.listening = listening
        self.zone = Locked(zone)
        self.logger = logger
        do {
            thread = try PollingThread(name: "riftgate-dns") { [self] waiter in serve(waiter) }
        } catch {
            throw DNSError("cannot start the DNS thread", error)
        }
    }

    /// Answers from `zone` from now on. Callable from any thread.
    public func update(_ zone: DNSZone) {
        self.zone.withLock { $0 = zone }
    }

    /// The zone answered from.
    public var currentZone: DNSZone { zone.withLock { $0 } }

    /// Stops answering, waits for the thread to end, then closes the sockets. Idempotent, callable from any thread.
    public func shutdown() {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        thread?.stop()
        for socket in sockets { socket.close() }
    }

    private func serve(_ waiter: PollingThread.Waiter) {
        var buffer = [UInt8](repeating: 0, count: Self.maximumQuerySize)
        let descriptors = sockets.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        while let ready = waiter.wait(for: descriptors, timeoutMilliseconds: -1) {
            for (index, descriptor) in ready.enumerated() where descriptor.revents != 0 {
                answerWaiting(on: sockets[index].rawValue, buffer: &buffer)
            }
        }
    }

    /// Answers the datagrams waiting on `socket`, up to `batch`.
    private func answerWaiting(on socket: Int32, buffer: inout [UInt8]) {
        for _ in 0..<Self.batch {
            let received: (count: Int, source: SocketAddress)
            do {
                received = try SystemCall.receiveFrom(socket, into: &buffer)
            } catch {
                if error.code != EAGAIN && error.code != EWOULDBLOCK { logger.debug("DNS: \(error)") }
                return
            }
            let zone = currentZone
            guard let reply = DNSWire.respond(to: Array(buffer[0..<received.count]), answering: zone.answer) else {
                logger.debug("DNS: dropped an unreadable datagram of \(received.count) bytes")
                continue
            }
            do { try SystemCall.send(socket, reply, to: received.source) } catch { logger.debug("DNS: \(error)") }
        }
    }

    /// `host:port`, IPv6 in brackets.
    private static func text(_ address: SocketAddress, fallback: String) -> String {
        guard let numeric = address.numeric else { return fallback }
        return numeric.host.contains(":") ? "[\(numeric.host)]:\(numeric.port)" : "\(numeric.host):\(numeric.port)"
    }
}
