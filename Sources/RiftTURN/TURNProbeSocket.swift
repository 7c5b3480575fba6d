import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connected socket for one TURN probe, UDP or TCP. UDP is connected so that an ICMP port unreachable shows up as
/// ECONNREFUSED and only the server's datagrams arrive; over TCP, STUN messages are delimited by their own length field
/// (RFC 5766 §2.1), so `receive` returns one whole message at a time. `init` opens it, `deinit` closes it.
final class TURNProbeSocket {
    private let descriptor: Int32
    private let stream: Bool
    /// Bytes received over TCP and not yet returned as a message.
    private var pending: [UInt8] = []

    /// What one receive returned.
    enum Reception { case datagram([UInt8]), nothing, refused }

    /// Resolves `host` and connects (over TCP within `connectTimeoutMilliseconds`); nil when the name does not resolve,
    /// no socket can be made, or (TCP) the connection is refused or times out.
    init?(host: String, port: UInt16, transport: TURNTransport = .udp, connectTimeoutMilliseconds: Int32 = 2_000) {
        guard transport != .tls else { return nil }
        stream = transport == .tcp
        let type = stream ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        var hints = addrinfo()
        hints.ai_socktype = type
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else { return nil }
        defer { freeaddrinfo(results) }
        let descriptor = Glibc.socket(first.pointee.ai_family, type | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        guard Self.connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen, timeout: connectTimeoutMilliseconds) else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// A non-blocking connect bounded by `timeout`: a TCP SYN into a filtering firewall must not hang the probe.
    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t, timeout: Int32) -> Bool {
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, timeout) > 0 else { return false }
        var failure: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size) == 0 && failure == 0
    }

    /// Whether a lost request must be sent again: over UDP yes, over TCP the stream already retransmits.
    var needsRetransmission: Bool { !stream }

    /// Sends one message; false when the socket reports an error (a refusal from an earlier send included).
    func send(_ message: [UInt8]) -> Bool {
        var offset = 0
        while offset < message.count {
            let sent = message[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 { offset += sent; continue }
            guard sent < 0, errno == EAGAIN || errno == EINTR else { return false }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, 1_000) > 0 else { return false }
        }
        return true
    }

    /// Waits up to `timeoutMilliseconds` for one message (a datagram, or one length-delimited message over TCP).
    func receive(timeoutMilliseconds: Int32) -> Reception {
        if stream, let message = takeMessage() { return .datagram(message) }
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, timeoutMilliseconds)))
        while true {
            let left = deadline - ContinuousClock.now
            let wait = Int32(max(0, left.components.seconds * 1_000 + left.components.attoseconds / 1_000_000_000_000_000))
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, wait) > 0 else { return .nothing }
            var buffer = [UInt8](repeating: 0, count: 1500)
            let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return errno == ECONNREFUSED || errno == ECONNRESET ? .refused : .nothing
            }
            if !stream { return .datagram(Array(buffer[..<received])) }
            if received == 0 { return .refused }  // the server closed the connection
            pending += buffer[..<received]
            if let message = takeMessage() { return .datagram(message) }
            if ContinuousClock.now >= deadline { return .nothing }
        }
    }

    /// The first whole STUN message in the TCP buffer, removed from it.
    private func takeMessage() -> [UInt8]? {
        guard pending.count >= 20 else { return nil }
        let total = 20 + (Int(pending[2]) << 8 | Int(pending[3]))
        guard pending.count >= total else { return nil }
        let message = Array(pending[..<total])
        pending.removeFirst(total)
        return message
    }
}
