internal import CRiftLinux
import Glibc

/// One function per socket system call: `EINTR` retried where a retry is right, `errno` turned into a
/// `SystemCallError` naming the call, and every `sockaddr` pointer kept inside `SocketAddress`.
extension SystemCall {
    /// `socket(2)`, always close-on-exec (a child process such as wireguard-go must never inherit the agent's sockets);
    /// `nonBlocking` adds `SOCK_NONBLOCK`.
    public static func socket(_ family: Int32, _ type: SocketType, protocol: Int32 = 0, nonBlocking: Bool = false)
        throws(SystemCallError) -> Int32 {
        var flags = type.rawValue | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { flags |= Int32(SOCK_NONBLOCK.rawValue) }
        return try retrying("socket") { Glibc.socket(family, flags, `protocol`) }
    }

    /// `bind(2)`.
    public static func bind(_ descriptor: Int32, to address: SocketAddress) throws(SystemCallError) {
        try address.withSockaddr { pointer, length throws(SystemCallError) in
            _ = try retrying("bind") { Glibc.bind(descriptor, pointer, length) }
        }
    }

    /// `connect(2)`, not retried on `EINTR` (the connection goes on; a second call would fail with `EALREADY`). A
    /// non-blocking socket fails with `EINPROGRESS` while the connection is under way.
    public static func connect(_ descriptor: Int32, to address: SocketAddress) throws(SystemCallError) {
        try address.withSockaddr { pointer, length throws(SystemCallError) in
            _ = try once("connect") { Glibc.connect(descriptor, pointer, length) }
        }
    }

    /// `listen(2)`.
    public static func listen(_ descriptor: Int32, backlog: Int32) throws(SystemCallError) {
        try retrying("listen") { Glibc.listen(descriptor, backlog) }
    }

    /// `accept4(2)` with `SOCK_CLOEXEC` (and `SOCK_NONBLOCK` when `nonBlocking`): the new connection, or nil when none
    /// is waiting on a non-blocking listener (`EAGAIN`).
    public static func accept(_ descriptor: Int32, nonBlocking: Bool = false) throws(SystemCallError) -> Int32? {
        var flags = Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { flags |= Int32(SOCK_NONBLOCK.rawValue) }
        do {
            return try retrying("accept4") { CRiftLinux_accept4(descriptor, flags) }
        } catch where error.code == EAGAIN || error.code == EWOULDBLOCK {
            return nil
        }
    }

    /// `setsockopt(2)` with a plain value (an `Int32` flag or size, a `timeval`).
    public static func setOption<Value: BitwiseCopyable>(_ descriptor: Int32, level: Int32, _ name: Int32, _ value: Value)
        throws(SystemCallError) {
        try withUnsafeBytes(of: value) { raw throws(SystemCallError) in
            _ = try retrying("setsockopt") { setsockopt(descriptor, level, name, raw.baseAddress, socklen_t(raw.count)) }
        }
    }

    /// `IP_FREEBIND`: lets the socket bind an address the host does not have (yet), such as a WireGuard interface's
    /// address before the interface is up; works on IPv6 sockets too (Linux keeps the flag for both families).
    public static func allowNonLocalBind(_ descriptor: Int32) throws(SystemCallError) {
        try setOption(descriptor, level: Int32(IPPROTO_IP), IP_FREEBIND, Int32(1))
    }

    /// A send or receive timeout (`SO_SNDTIMEO` / `SO_RCVTIMEO`) of `duration` (microsecond resolution).
    public static func setTimeout(_ descriptor: Int32, _ name: Int32, _ duration: Duration) throws(SystemCallError) {
        let (seconds, attoseconds) = duration.components
        try setOption(descriptor, level: SOL_SOCKET, name, timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000)))
    }

    /// `getsockopt(2)` of an `Int32` option (`SO_ERROR`, `SO_RCVBUF`).
    public static func option(_ descriptor: Int32, level: Int32, _ name: Int32) throws(SystemCallError) -> Int32 {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        try retrying("getsockopt") { getsockopt(descriptor, level, name, &value, &size) }
        return value
    }

    /// Raises (`SO_RCVBUFFORCE`, `SO_SNDBUFFORCE`) to `bytes` the smaller buffers of every IPv4/IPv6 UDP socket that
    /// another process holds, reaching them through `pidfd_getfd(2)`: for a child such as wireguard-go, whose sockets keep
    /// the kernel's default size. Needs ptrace rights over the process and `CAP_NET_ADMIN`. The number of sockets
    /// raised; 0 when the process holds none (yet).
    public static func forceUDPBuffers(ofProcess processID: Int32, bytes: Int32) throws(SystemCallError) -> Int {
        Int(try retrying("pidfd_getfd") { CRiftLinux_force_udp_buffers_of_process(processID, bytes) })
    }

    /// `getsockname(2)`: the address the socket is bound to.
    public static func localAddress(_ descriptor: Int32) throws(SystemCallError) -> SocketAddress {
        try SocketAddress.filling { pointer, length throws(SystemCallError) in
            _ = try retrying("getsockname") { getsockname(descriptor, pointer, length) }
        }.1
    }

    /// `getpeername(2)`: the address a connected socket reaches.
    public static func peerAddress(_ descriptor: Int32) throws(SystemCallError) -> SocketAddress {
        try SocketAddress.filling { pointer, length throws(SystemCallError) in
            _ = try retrying("getpeername") { getpeername(descriptor, pointer, length) }
        }.1
    }

    /// `sendto(2)` of one datagram; returns the bytes sent.
    @discardableResult
    public static func send(_ descriptor: Int32, _ bytes: [UInt8], to address: SocketAddress) throws(SystemCallError) -> Int {
        try address.withSockaddr { pointer, length throws(SystemCallError) in
            try retrying("sendto") {
                bytes.withUnsafeBytes { Glibc.sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), pointer, length) }
            }
        }
    }

    /// `send(2)` once (retried on `EINTR`); returns the bytes sent, which may be fewer than `bytes` on a stream.
    /// `EAGAIN` on a non-blocking socket is an error the caller may wait out.
    public static func sendSome(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>) throws(SystemCallError) -> Int {
        try retrying("send") { bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
    }

    /// `recvfrom(2)` of one datagram into `buffer`: its length and sender.
    public static func receiveFrom(_ descriptor: Int32, into buffer: inout [UInt8], flags: Int32 = 0)
        throws(SystemCallError) -> (count: Int, source: SocketAddress) {
        let (count, source) = try SocketAddress.filling { pointer, length throws(SystemCallError) in
            try retrying("recvfrom") { buffer.withUnsafeMutableBytes { Glibc.recvfrom(descriptor, $0.baseAddress, $0.count, flags, pointer, length) } }
        }
        return (count, source)
    }

    /// `recv(2)` into `buffer`: the bytes received (0: the peer closed a stream).
    public static func receive(_ descriptor: Int32, into buffer: inout [UInt8], flags: Int32 = 0) throws(SystemCallError) -> Int {
        try retrying("recv") { buffer.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, $0.count, flags) } }
    }

    /// `read(2)` into `buffer`: the bytes read (0: end of file).
    public static func read(_ descriptor: Int32, into buffer: inout [UInt8]) throws(SystemCallError) -> Int {
        try retrying("read") { buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) } }
    }

    /// `poll(2)`: how many descriptors have events (0: the timeout passed; -1 waits for ever). Retried on `EINTR` with
    /// the same timeout, which a signal can only lengthen.
    @discardableResult
    public static func poll(_ descriptors: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemCallError) -> Int {
        Int(try retrying("poll") { Glibc.poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds) })
    }

    /// Waits up to `timeoutMilliseconds` for `events` on one descriptor: true when they came.
    public static func wait(for events: Int32, on descriptor: Int32, timeoutMilliseconds: Int32) throws(SystemCallError) -> Bool {
        var descriptors = [pollfd(fd: descriptor, events: Int16(events), revents: 0)]
        return try poll(&descriptors, timeoutMilliseconds: timeoutMilliseconds) > 0
    }

    /// Sets or clears `O_NONBLOCK` (`fcntl(2)`).
    public static func setNonBlocking(_ descriptor: Int32, _ nonBlocking: Bool) throws(SystemCallError) {
        let flags = try retrying("fcntl") { fcntl(descriptor, F_GETFL) }
        try retrying("fcntl") { fcntl(descriptor, F_SETFL, nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) }
    }

    /// `pipe2(2)` with `O_CLOEXEC`: the read and write ends.
    public static func pipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        try retrying("pipe2") { CRiftLinux_pipe_cloexec(&ends) }
        return (ends[0], ends[1])
    }

    /// Every address `host` resolves to for `type` sockets (`getaddrinfo(3)`, in the resolver's order, duplicates
    /// removed). `passive` asks for addresses to bind (`AI_PASSIVE`), `numeric` refuses names (`AI_NUMERICHOST`).
    /// Blocks for the lookup. Fails with the resolver's error.
    public static func resolve(_ host: String, port: UInt16?, type: SocketType, passive: Bool = false, numeric: Bool = false)
        throws(AddressResolutionError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = type.rawValue
        if passive { hints.ai_flags |= AI_PASSIVE }
        if numeric { hints.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV }
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port.map { String($0) }, &hints, &list)
        guard status == 0 else { throw AddressResolutionError(code: status) }
        defer { if let list { freeaddrinfo(list) } }
        var addresses: [SocketAddress] = []
        var cursor = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                let found = SocketAddress(bytes: Array(UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen))))
                if !addresses.contains(found) { addresses.append(found) }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}

/// The kind of socket `SystemCall.socket` opens and `SystemCall.resolve` resolves for.
public enum SocketType: Sendable {
    /// `SOCK_STREAM`: TCP, or a Unix stream socket.
    case stream
    /// `SOCK_DGRAM`: UDP, an unprivileged ICMP socket, or a Unix datagram socket.
    case datagram
    /// `SOCK_RAW`: a raw socket (ICMP as root).
    case raw

    var rawValue: Int32 {
        switch self {
        case .stream: Int32(SOCK_STREAM.rawValue)
        case .datagram: Int32(SOCK_DGRAM.rawValue)
        case .raw: Int32(SOCK_RAW.rawValue)
        }
    }
}

/// A name that did not resolve: `getaddrinfo`'s code and its text ("Name or service not known").
public struct AddressResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `EAI_*` code.
    public var code: Int32

    /// Creates an error from a `getaddrinfo` result.
    public init(code: Int32) { self.code = code }

    public var description: String { String(cString: gai_strerror(code)) }
}
