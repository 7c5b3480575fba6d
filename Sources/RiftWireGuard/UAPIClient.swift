import Glibc
internal import RiftSupport

/// Speaks WireGuard's cross-platform configuration protocol (wireguard.com/xplatform) with a
/// userspace implementation over its UNIX socket, `/var/run/wireguard/<interface>.sock`.
///
/// Each operation uses its own connection: wireguard-go stops reading a request at the first line it
/// rejects, so a connection is not reusable after an error. Every send and receive is bounded by
/// `timeout`. Socket calls go through RiftSupport's `SystemCall`.
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
        (try? connect()) != nil
    }

    /// Removes the socket file if nothing listens on it any more (its process was killed before it
    /// could clean up); leaves a live socket, which belongs to a running implementation, alone.
    func removeIfStale() {
        do {
            _ = try connect()
        } catch where error.errno == ECONNREFUSED {
            unlink(socketPath)
        } catch {}
    }

    /// Sends `request` (then zeroes it) and reads until the blank line that ends every response.
    private func exchange(_ request: inout [UInt8]) throws(WireGuardError) -> [UAPILine] {
        defer { for index in request.indices { request[index] = 0 } }
        let socket = try connect()
        do { try SystemCall.sendAll(socket.rawValue, request) } catch {
            throw failure("could not send to", errno: error.code)
        }
        var response: [UInt8] = []
        defer { for index in response.indices { response[index] = 0 } }
        var buffer = [UInt8](repeating: 0, count: 16384)
        defer { for index in buffer.indices { buffer[index] = 0 } }
        while !response.ends(with: [UInt8(ascii: "\n"), UInt8(ascii: "\n")]) {
            let count: Int
            do { count = try SystemCall.receive(socket.rawValue, into: &buffer) } catch {
                throw failure("no answer from", errno: error.code)
            }
            guard count > 0 else { throw failure("connection closed before a complete answer by", errno: 0) }
            response += buffer[..<count]
            guard response.count <= Self.maximumResponseCount else { throw failure("oversized answer from", errno: 0) }
        }
        return try UAPILine.parseResponse(response, from: socketPath)
    }

    /// Opens a connected socket with send and receive timeouts; it closes when the result is freed.
    private func connect() throws(WireGuardError) -> OwnedDescriptor {
        guard let address = SocketAddress(unixPath: socketPath) else {
            throw WireGuardError(.invalidConfiguration, "UAPI socket path \(socketPath) is too long")
        }
        let socket: OwnedDescriptor
        do { socket = OwnedDescriptor(try SystemCall.socket(AF_UNIX, .stream)) } catch {
            throw failure("could not create a socket for", errno: error.code)
        }
        try? SystemCall.setTimeout(socket.rawValue, SO_RCVTIMEO, timeout)
        try? SystemCall.setTimeout(socket.rawValue, SO_SNDTIMEO, timeout)
        do { try SystemCall.connect(socket.rawValue, to: address) } catch {
            throw failure("could not connect to", errno: error.code)
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
