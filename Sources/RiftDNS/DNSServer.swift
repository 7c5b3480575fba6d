import Glibc
import Logging
import RiftSupport

/// The agent's resolver for peers' names: answers DNS queries over UDP and TCP on given addresses from a `DNSZone`,
/// which `update` replaces at any moment (a peer joined, left or was renamed).
///
/// One `PollingThread` (`riftgate-dns`) reads every socket and answers each datagram (and each TCP client's query,
/// `DNSStreamClients`) at once; the zone is read under a lock, so an answer comes from one zone or the next, never a
/// mix. Datagrams ldns cannot read, and responses, are dropped; everything outside the zone is REFUSED (`DNSZone`),
/// never forwarded.
///
/// No rate limit per source: the agent binds it to its own overlay addresses, which only peers of the network (through
/// WireGuard, each authenticated by its key) and the host itself reach, and every answer is no larger than its query
/// plus two records, so it cannot amplify an attack on a third party either.
///
/// UDP and TCP on each address (RFC 7766 asks every DNS server for both). No answer is larger than 512 bytes (a name
/// has one A and one AAAA record), so clients need TCP only if they choose it; an answer that would not fit a datagram
/// is sent truncated (TC) all the same.
public final class DNSServer: @unchecked Sendable {  // sockets and `listening` set in init, `thread` once in init; zone under its lock
    private let sockets: [OwnedDescriptor]
    private let listeners: [OwnedDescriptor]
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

    /// Binds a UDP socket and a TCP listener on each of `bindAddresses` (numeric IPv4 or IPv6) at `port` (0: an
    /// ephemeral port, the TCP one the same as UDP's, for tests) and starts answering from `zone`. With
    /// `allowNonLocal` (`IP_FREEBIND`), an address the host does not have yet — the WireGuard interface's, just before
    /// it is up — is bound all the same. Fails (nothing left open) when an address is not numeric, a socket cannot be
    /// bound (the port is taken: another resolver listens there) or the thread cannot start.
    public init(bindAddresses: [String], port: UInt16 = 53, zone: DNSZone, logger: Logger, allowNonLocal: Bool = true) throws(DNSError) {
        var sockets: [OwnedDescriptor] = []
        var listeners: [OwnedDescriptor] = []
        var listening: [String] = []
        for host in bindAddresses {
            guard let address = (try? SystemCall.resolve(host, port: port, type: .datagram, numeric: true))?.first else {
                throw DNSError("\(host) is not an IP address")
            }
            let text = Self.text(address, fallback: host)
            // With port 0 (tests) the kernel picks UDP's port, which a TCP socket may already hold: pick again.
            var attemptsLeft = port == 0 ? 10 : 1
            while true {
                attemptsLeft -= 1
                do {
                    let socket = OwnedDescriptor(try SystemCall.socket(address.family, .datagram, nonBlocking: true))
                    if allowNonLocal { try? SystemCall.allowNonLocalBind(socket.rawValue) }  // without it, bind says why
                    try SystemCall.bind(socket.rawValue, to: address)
                    let bound = try SystemCall.localAddress(socket.rawValue)
                    let listener: OwnedDescriptor
                    do {
                        listener = try Self.listener(on: bound, allowNonLocal: allowNonLocal)
                    } catch where error.code == EADDRINUSE && attemptsLeft > 0 {
                        socket.close()
                        continue
                    }
                    sockets.append(socket)
                    listening.append(Self.text(bound, fallback: text))
                    listeners.append(listener)
                    break
                } catch {
                    throw DNSError("cannot listen on \(text)", error)
                }
            }
        }
        self.sockets = sockets
        self.listeners = listeners
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
        for socket in sockets + listeners { socket.close() }
    }

    /// A TCP listener on the address (and port) the UDP socket got.
    private static func listener(on address: SocketAddress, allowNonLocal: Bool) throws(SystemCallError) -> OwnedDescriptor {
        let listener = OwnedDescriptor(try SystemCall.socket(address.family, .stream, nonBlocking: true))
        try SystemCall.setOption(listener.rawValue, level: SOL_SOCKET, SO_REUSEADDR, Int32(1))  // restarts: TIME_WAIT
        if allowNonLocal { try? SystemCall.allowNonLocalBind(listener.rawValue) }
        try SystemCall.bind(listener.rawValue, to: address)
        try SystemCall.listen(listener.rawValue, backlog: 16)
        return listener
    }

    private func serve(_ waiter: PollingThread.Waiter) {
        var buffer = [UInt8](repeating: 0, count: Self.maximumQuerySize)
        var streams = DNSStreamClients()
        defer { streams.closeAll() }
        let fixed = (sockets + listeners).map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        while true {
            let descriptors = fixed + streams.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard let ready = waiter.wait(for: descriptors, timeoutMilliseconds: streams.timeoutMilliseconds) else { return }
            for (index, descriptor) in ready.enumerated() where descriptor.revents != 0 {
                if index < sockets.count {
                    answerWaiting(on: descriptor.fd, buffer: &buffer)
                } else if index < fixed.count {
                    streams.accept(from: descriptor.fd)
                } else {
                    let zone = currentZone
                    streams.read(descriptor.fd, maximumQuery: Self.maximumQuerySize) { query in
                        DNSWire.respond(to: query, stream: true, answering: zone.answer)
                    }
                }
            }
            streams.expire()
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
