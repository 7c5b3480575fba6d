import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connected UDP socket for one TURN probe: connected, so that an ICMP port unreachable shows up as ECONNREFUSED
/// and only the server's datagrams arrive. `init` opens it, `deinit` closes it.
final class TURNProbeSocket {
    private let descriptor: Int32

    /// What one receive returned.
    enum Reception { case datagram([UInt8]), nothing, refused }

    /// Resolves `host` and connects; nil when the name does not resolve or no socket can be made.
    init?(host: String, port: UInt16) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else { return nil }
        defer { freeaddrinfo(results) }
        let descriptor = Glibc.socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        guard connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Sends one datagram; false when the socket reports an error (a refusal from an earlier send included).
    func send(_ datagram: [UInt8]) -> Bool {
        datagram.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) } == datagram.count
    }

    /// Waits up to `timeoutMilliseconds` for one datagram.
    func receive(timeoutMilliseconds: Int32) -> Reception {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 1500)
        let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if received < 0 { return errno == ECONNREFUSED ? .refused : .nothing }
        return .datagram(Array(buffer[..<received]))
    }
}
