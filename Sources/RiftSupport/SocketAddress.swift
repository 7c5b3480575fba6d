import Glibc

/// A socket address (`sockaddr_in`, `sockaddr_in6` or `sockaddr_un`) as a value: the bytes the kernel reads or writes,
/// and their length. The one place socket addresses are built, so no other file rebinds `sockaddr` pointers.
public struct SocketAddress: Sendable, Hashable {
    /// The raw address, exactly as long as the kernel's length for it.
    public private(set) var bytes: [UInt8]

    /// An address from its raw bytes (as `getaddrinfo` or `recvfrom` produced them).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// A Unix-domain address for a filesystem path; nil when the path does not fit `sun_path` (108 bytes with its NUL).
    public init?(unixPath path: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        bytes = withUnsafeBytes(of: &address) { Array($0) }
    }

    /// 127.0.0.1:`port` (0: an ephemeral port when bound).
    public static func loopbackIPv4(port: UInt16) -> SocketAddress {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return SocketAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
    }

    /// The wildcard address of `family` (AF_INET or AF_INET6) with port 0: binding it picks an ephemeral port on every
    /// interface.
    public static func unspecified(family: Int32) -> SocketAddress {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(family)
        let length = Int(SystemCall.socketAddressLength(family: family))
        return SocketAddress(bytes: withUnsafeBytes(of: &storage) { Array($0.prefix(length)) })
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`), or `AF_UNSPEC` for an empty address.
    public var family: Int32 {
        guard bytes.count >= 2 else { return AF_UNSPEC }
        return Int32(bytes.withUnsafeBytes { $0.loadUnaligned(as: sa_family_t.self) })
    }

    /// The port of an IPv4 or IPv6 address (0 for other families).
    public var port: UInt16 {
        guard family == AF_INET || family == AF_INET6, bytes.count >= 4 else { return 0 }
        return UInt16(bytes[2]) << 8 | UInt16(bytes[3])
    }

    /// The same IPv4 or IPv6 address with another port.
    public func with(port: UInt16) -> SocketAddress {
        guard family == AF_INET || family == AF_INET6, bytes.count >= 4 else { return self }
        var copy = bytes
        copy[2] = UInt8(port >> 8)
        copy[3] = UInt8(port & 0xFF)
        return SocketAddress(bytes: copy)
    }

    /// The numeric host text and port of an IPv4 or IPv6 address (`SystemCall.numericAddress`); nil for other families.
    public var numeric: (host: String, port: UInt16)? {
        guard family == AF_INET || family == AF_INET6 else { return nil }
        return (try? withSockaddr { SystemCall.numericAddress($0, length: $1) }) ?? nil
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length (copied into a `sockaddr_storage`, so the
    /// pointer is suitably aligned).
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemCallError) -> Result) throws(SystemCallError) -> Result {
        var storage = sockaddr_storage()
        let count = min(bytes.count, MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            bytes.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        }
        return try withUnsafePointer(to: &storage) { pointer throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemCallError) in
                try body(address, socklen_t(count))
            }
        }
    }

    /// Calls `body` with an empty `sockaddr_storage` for the kernel to fill (`getsockname`, `recvfrom`, `accept`) and
    /// returns its result and the address it wrote.
    static func filling<Result>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(SystemCallError) -> Result)
        throws(SystemCallError) -> (Result, SocketAddress) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemCallError) in try body(address, &length) }
        }
        let count = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        return (result, SocketAddress(bytes: withUnsafeBytes(of: &storage) { Array($0.prefix(count)) }))
    }
}
