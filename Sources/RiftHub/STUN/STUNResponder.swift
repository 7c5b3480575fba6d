import Foundation
import RiftSupport
import Synchronization
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
/// Owns the socket (`init` binds it, `deinit` closes it) and the thread (`start` spawns it, `stop` ends
/// and joins it). Malformed datagrams and anything but Binding requests are ignored, and each source gets at most a
/// burst of 20 answers and 10 a second (`STUNRateLimiter`). With host nil it
/// binds `[::]` dual-stack (IPv4 clients appear IPv4-mapped and are answered with an IPv4 address),
/// falling back to `0.0.0.0` when IPv6 is unavailable.
public final class STUNResponder: @unchecked Sendable {
    private let socket: Int32
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: JoinableThread?
    /// The UDP port bound (useful when 0 was requested).
    public let boundPort: UInt16

    /// Binds `host:port` (host nil = all interfaces). Fails when the address does not resolve or the port is taken.
    public init(host: String?, port: UInt16) throws(STUNResponderError) {
        (socket, boundPort) = try Self.bind(host: host, port: port)
    }

    deinit {
        stop()
        close(socket)
    }

    /// Starts answering on a dedicated thread; fails when the system refuses a new thread.
    public func start() throws(SystemCallError) {
        guard thread == nil else { return }
        thread = try JoinableThread.spawn(name: "riftgate-stun") { [self] in serve() }
    }

    /// Stops the thread and waits (at most about 250 ms) for it to end. Idempotent.
    public func stop() {
        guard thread != nil, !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 1500)
        var limiter = STUNRateLimiter()
        while !stopRequested.load(ordering: .acquiring) {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 200) > 0 else { continue }
            var source = sockaddr_storage()
            var sourceLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &source) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(socket, bytes.baseAddress, bytes.count, 0, $0, &sourceLength)
                    }
                }
            }
            guard received > 0, let request = STUNMessage.bindingRequest(in: Array(buffer[..<received])),
                  let endpoint = Self.endpoint(of: source),
                  limiter.allows(endpoint, now: Self.monotonicSeconds()) else { continue }
            let response = STUNMessage.bindingSuccessResponse(to: request, endpoint: endpoint)
            _ = response.withUnsafeBytes { bytes in
                withUnsafePointer(to: &source) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(socket, bytes.baseAddress, bytes.count, 0, $0, sourceLength)
                    }
                }
            }
        }
        finished.signal()
    }

    private static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The client's address; an IPv4-mapped IPv6 address is reported as the IPv4 address it maps.
    static func endpoint(of storage: sockaddr_storage) -> STUNEndpoint? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &storage) { raw in
                let address = raw.load(as: sockaddr_in.self)
                let bytes = withUnsafeBytes(of: address.sin_addr.s_addr) { Array($0) }
                return STUNEndpoint(address: bytes, port: UInt16(bigEndian: address.sin_port))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &storage) { raw in
                let address = raw.load(as: sockaddr_in6.self)
                let bytes = withUnsafeBytes(of: address.sin6_addr) { Array($0) }
                let port = UInt16(bigEndian: address.sin6_port)
                let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
                if Array(bytes.prefix(12)) == mappedPrefix { return STUNEndpoint(address: Array(bytes.suffix(4)), port: port) }
                return STUNEndpoint(address: bytes, port: port)
            }
        default:
            return nil
        }
    }

    private static func bind(host: String?, port: UInt16) throws(STUNResponderError) -> (Int32, UInt16) {
        if host == nil || host == "" || host == "::" || host == "0.0.0.0" {
            if host != "0.0.0.0", let bound = try? bindResolved(host: "::", port: port, dualStack: true) { return bound }
            return try bindResolved(host: "0.0.0.0", port: port, dualStack: false)
        }
        return try bindResolved(host: host!, port: port, dualStack: false)
    }

    private static func bindResolved(host: String, port: UInt16, dualStack: Bool) throws(STUNResponderError) -> (Int32, UInt16) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw STUNResponderError(code: status, reason: "cannot resolve STUN listen address \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        let descriptor = Glibc.socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw STUNResponderError(code: errno, reason: "cannot create STUN socket: \(String(cString: strerror(errno)))") }
        if first.pointee.ai_family == AF_INET6 {
            var only: Int32 = dualStack ? 0 : 1
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &only, socklen_t(MemoryLayout<Int32>.size))
        }
        guard Glibc.bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(descriptor)
            throw STUNResponderError(code: code, reason: "cannot bind STUN to \(host) port \(port): \(String(cString: strerror(code)))")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return (descriptor, endpoint(of: bound)?.port ?? port)
    }
}
