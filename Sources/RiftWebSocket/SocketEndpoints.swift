#if canImport(Glibc)
import Glibc
#endif
import RiftSupport

/// The two ends of an established TCP connection, as numeric addresses: which local address the connection leaves
/// from (so a client can tell that a network change took it away) and which server address it reached.
public struct SocketEndpoints: Sendable, Equatable {
    /// The local address (numeric IPv4 or IPv6 text, without scope).
    public var localAddress: String
    /// The server's address (numeric text).
    public var remoteAddress: String
    /// The server's port.
    public var remotePort: UInt16

    public init(localAddress: String, remoteAddress: String, remotePort: UInt16) {
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
    }

    /// Reads both ends of the connected socket `descriptor`; nil if either cannot be read.
    static func of(descriptor: Int32) -> SocketEndpoints? {
        guard let local = name(descriptor, getsockname), let remote = name(descriptor, getpeername) else { return nil }
        return SocketEndpoints(localAddress: local.host, remoteAddress: remote.host, remotePort: remote.port)
    }

    private static func name(_ descriptor: Int32, _ read: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32)
        -> (host: String, port: UInt16)?
    {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { read(descriptor, $0, &length) }
        }
        guard result == 0, let name = SystemCall.numericAddress(storage, length: length) else { return nil }
        var text = SystemCall.unscoped(name.host)
        if text.hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }  // IPv4-mapped
        return (text, name.port)
    }
}
