import Glibc

/// Speaks WireGuard's cross-platform configuration protocol (wireguard.com/xplatform) with a
/// userspace implementation over its UNIX socket, `/var/run/wireguard/<interface>.sock`.
///
/// Each operation uses its own connection: wireguard-go stops reading a request at the first line it
/// rejects, so a connection is not reusable after an error. Every send and receive is bounded by
/// `timeout`. All socket and pointer code of this module lives in this file.
struct UAPIClient: Sendable {
    /// The directory where userspace implementations create their sockets.
    static let socketDirectory = "/var/run/wireguard"
    /// The largest response accepted (a get for many thousands of peers fits easily).
    static let maximumResponseCount = 16 << 20

    let socketPath: String
    let timeout: Duration

    init(interfaceName: String, timeout: Duration = .seconds(5)) {
        self.socketPath = "\(Self.socketDirectory)/\(interfaceName).sock"
        self.timeout = timeout
    }

    /// Sends `get=1` and returns the response's `key=value` lines (without the `errno` line).
    /// Fails with `.controlFailed` when the socket cannot be reached or the answer is malformed or
    /// carries a non-zero errno, and `.timedOut` when no answer arrives in time.
    func get() throws(WireGuardError) -> [UAPILine] {
        var request = Array("get=1\n\n".utf8)
        return try exchange(&request)
    }

    /// Sends `set=1` with `lines`; the request buffer is wiped afterwards because it may hold the
    /// private key. Fails like `get`; the errno is WireGuard's (EINVAL for a rejected value,
    /// EADDRINUSE for a listen port in use).
    func set(_ lines: [UAPILine]) throws(WireGuardError) {
        var request = Array("set=1\n".utf8)
        for line in lines { request += Array("\(line.key)=".utf8) + line.value + [UInt8(ascii: "\n")] }
        request.append(UInt8(ascii: "\n"))
        _ = try exchange(&request)
    }

    /// Whether a live implementation answers on the socket (a connection is accepted).
    func isServed() -> Bool {
        guard let socket = try? connect() else { return false }
        close(socket)
        return true
    }

    /// Removes the socket file if nothing listens on it any more (its process was killed before it
    /// could clean up); leaves a live socket, which belongs to a running implementation, alone.
    func removeIfStale() {
        do {
            close(try connect())
        } catch where error.errno == ECONNREFUSED {
            unlink(socketPath)
        } catch {}
    }

    /// Sends `request` (then zeroes it) and reads until the blank line that ends every response.
    private func exchange(_ request: inout [UInt8]) throws(WireGuardError) -> [UAPILine] {
        defer { for index in request.indices { request[index] = 0 } }
        let socket = try connect()
        defer { close(socket) }
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes { send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("could not send to", errno: errno)
            }
            sent += count
        }
        var response: [UInt8] = []
        defer { for index in response.indices { response[index] = 0 } }
        var buffer = [UInt8](repeating: 0, count: 16384)
        defer { for index in buffer.indices { buffer[index] = 0 } }
        while !response.ends(with: [UInt8(ascii: "\n"), UInt8(ascii: "\n")]) {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("no answer from", errno: errno)
            }
            guard count > 0 else { throw failure("connection closed before a complete answer by", errno: 0) }
            response += buffer[..<count]
            guard response.count <= Self.maximumResponseCount else { throw failure("oversized answer from", errno: 0) }
        }
        return try UAPILine.parseResponse(response, from: socketPath)
    }

    /// Opens a connected socket with send and receive timeouts.
    private func connect() throws(WireGuardError) -> Int32 {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw failure("could not create a socket for", errno: errno) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socket)
            throw WireGuardError(.invalidConfiguration, "UAPI socket path \(socketPath) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw failure("could not connect to", errno: code)
        }
        return socket
    }

    private func failure(_ what: String, errno code: Int32) -> WireGuardError {
        let timedOut = code == EAGAIN || code == EWOULDBLOCK
        return WireGuardError(timedOut ? .timedOut : .controlFailed, "\(what) the WireGuard UAPI socket \(socketPath)",
                              errno: timedOut ? 0 : code)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
