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
        guard let local = (try? SystemCall.localAddress(descriptor)).flatMap(text),
              let remote = (try? SystemCall.peerAddress(descriptor)).flatMap(text) else { return nil }
        return SocketEndpoints(localAddress: local.host, remoteAddress: remote.host, remotePort: remote.port)
    }

    /// The numeric host (unscoped; an IPv4-mapped IPv6 address as plain IPv4) and port of `address`.
    private static func text(_ address: SocketAddress) -> (host: String, port: UInt16)? {
        guard let name = address.numeric else { return nil }
        var text = SystemCall.unscoped(name.host)
        if text.hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }  // IPv4-mapped
        return (text, name.port)
    }
}
