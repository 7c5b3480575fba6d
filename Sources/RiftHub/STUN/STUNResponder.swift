import Foundation
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// A failure to start the STUN responder; `code` is the `errno` or `getaddrinfo` code.
public struct STUNResponderError: Error, Sendable, CustomStringConvertible {
    /// The C error code.
    public var code: Int32
    /// What failed.
    public var reason: String

    public var description: String { reason }
}

/// The hub's STUN server: answers Binding requests (RFC 5389, and classic RFC 3489 ones) on one UDP socket, on a
/// thread of its own.
///
/// Owns the socket (`init` binds it, `deinit` closes it) and the thread (`start` spawns it, `stop` wakes it through
/// `PollingThread`'s pipe and joins it, so no thread outlives the hub's shutdown). Malformed datagrams and anything but
/// Binding requests are ignored, and each source gets at most a burst of 20 answers and 10 a second
/// (`STUNRateLimiter`). With host nil it binds `[::]` dual-stack (IPv4 clients appear IPv4-mapped and are answered with an IPv4 address),
/// falling back to `0.0.0.0` when IPv6 is unavailable.
public final class STUNResponder: @unchecked Sendable {
    private let socket: OwnedDescriptor
    private var thread: PollingThread?
    /// The UDP port bound (useful when 0 was requested).
    public let boundPort: UInt16

    /// Binds `host:port` (host nil = all interfaces). Fails when the address does not resolve or the port is taken.
    public init(host: String?, port: UInt16) throws(STUNResponderError) {
        (socket, boundPort) = try Self.bind(host: host, port: port)
    }

    deinit { stop() }  // then `socket` closes

    /// Starts answering on a dedicated thread; fails when the system refuses a new pipe or thread. Call `start` and
    /// `stop` from one thread.
    public func start() throws(SystemCallError) {
        guard thread == nil else { return }
        // The thread holds the socket, not the responder, so that a responder nobody stopped still stops in `deinit`.
        let socket = self.socket
        thread = try PollingThread(name: "riftgate-stun") { waiter in Self.serve(socket, waiter) }
    }

    /// Wakes the thread and joins it (at once: it waits on the socket and the wake-up pipe). Idempotent.
    public func stop() {
        thread?.stop()
    }

    private static func serve(_ socket: OwnedDescriptor, _ waiter: PollingThread.Waiter) {
        var buffer = [UInt8](repeating: 0, count: 1500)
        var limiter = STUNRateLimiter()
        let readable = [pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)]
        while let ready = waiter.wait(for: readable, timeoutMilliseconds: -1) {
            // An error queued on the socket (ICMP unreachable after an answer) wakes poll too: the read clears it.
            // Never a blocking read: a datagram with a bad checksum wakes poll and is then dropped, and a thread
            // blocked in recvfrom could not be woken to be joined.
            guard ready[0].revents != 0,
                  let (received, source) = try? SystemCall.receiveFrom(socket.rawValue, into: &buffer,
                                                                      flags: Int32(MSG_DONTWAIT)),
                  received > 0, let request = STUNMessage.bindingRequest(in: Array(buffer[..<received])),
                  let endpoint = endpoint(of: source),
                  limiter.allows(endpoint, now: monotonicSeconds()) else { continue }
            let response = STUNMessage.bindingSuccessResponse(to: request, endpoint: endpoint)
            _ = try? SystemCall.send(socket.rawValue, response, to: source)
        }
    }

    private static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The client's address; an IPv4-mapped IPv6 address is reported as the IPv4 address it maps.
    static func endpoint(of address: SocketAddress) -> STUNEndpoint? {
        let bytes = address.bytes
        switch address.family {
        case AF_INET where bytes.count >= 8:  // sockaddr_in: family, port, 4 address bytes
            return STUNEndpoint(address: Array(bytes[4..<8]), port: address.port)
        case AF_INET6 where bytes.count >= 24:  // sockaddr_in6: family, port, flow info, 16 address bytes
            let ip = Array(bytes[8..<24])
            let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            if Array(ip.prefix(12)) == mappedPrefix { return STUNEndpoint(address: Array(ip.suffix(4)), port: address.port) }
            return STUNEndpoint(address: ip, port: address.port)
        default:
            return nil
        }
    }

    private static func bind(host: String?, port: UInt16) throws(STUNResponderError) -> (OwnedDescriptor, UInt16) {
        if host == nil || host == "" || host == "::" || host == "0.0.0.0" {
            if host != "0.0.0.0", let bound = try? bindResolved(host: "::", port: port, dualStack: true) { return bound }
            return try bindResolved(host: "0.0.0.0", port: port, dualStack: false)
        }
        return try bindResolved(host: host!, port: port, dualStack: false)
    }

    private static func bindResolved(host: String, port: UInt16, dualStack: Bool) throws(STUNResponderError) -> (OwnedDescriptor, UInt16) {
        let address: SocketAddress
        do throws(AddressResolutionError) {
            guard let first = try SystemCall.resolve(host, port: port, type: .datagram, passive: true).first else {
                throw AddressResolutionError(code: EAI_NONAME)
            }
            address = first
        } catch {
            throw STUNResponderError(code: error.code, reason: "cannot resolve STUN listen address \(host): \(error)")
        }
        let socket: OwnedDescriptor
        do { socket = OwnedDescriptor(try SystemCall.socket(address.family, .datagram)) } catch {
            throw STUNResponderError(code: error.code, reason: "cannot create STUN socket: \(error.reason)")
        }
        if address.family == AF_INET6 {
            try? SystemCall.setOption(socket.rawValue, level: Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(dualStack ? 0 : 1))
        }
        do { try SystemCall.bind(socket.rawValue, to: address) } catch {
            throw STUNResponderError(code: error.code, reason: "cannot bind STUN to \(host) port \(port): \(error.reason)")
        }
        let bound = (try? SystemCall.localAddress(socket.rawValue)).flatMap(endpoint(of:))?.port ?? port
        return (socket, bound)
    }
}
