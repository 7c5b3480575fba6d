import Foundation
internal import CRiftLinux
#if canImport(Glibc)
import Glibc
#endif

/// A loopback UDP socket that stands in for one remote peer in front of the local WireGuard device.
///
/// WireGuard's endpoint for the peer is this socket's address; the socket is connected to WireGuard's listen port,
/// so only WireGuard's datagrams reach it. Buffers are sized for throughput: with the kernel's ~208 KiB default a
/// burst from WireGuard overflows the queue before the forwarding thread drains it.
final class ForwardingSocket: Sendable {
    /// The socket descriptor, owned by this object and closed when it is freed: the forwarding loop's route and any
    /// pending delivery batch hold the object, so the descriptor is never closed (and reused) under a read or send.
    let descriptor: Int32
    /// The loopback port WireGuard sends this peer's packets to.
    let port: UInt16

    /// Socket buffer size requested for each direction.
    static let bufferBytes: Int32 = 4 << 20

    /// Opens a socket on 127.0.0.1 (ephemeral port) connected to 127.0.0.1:`wireGuardPort`.
    init(wireGuardPort: UInt16) throws(AgentError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AgentError.system("forwarding socket: \(String(cString: strerror(errno)))") }
        var size = Self.bufferBytes
        for option in [SO_RCVBUFFORCE, SO_SNDBUFFORCE, SO_RCVBUF, SO_SNDBUF] {
            _ = setsockopt(fd, SOL_SOCKET, option, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var local = Self.loopback(port: 0)
        var remote = Self.loopback(port: wireGuardPort)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, connected == 0, named == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("forwarding socket: \(reason)")
        }
        descriptor = fd
        port = UInt16(bigEndian: local.sin_port)
    }

    deinit { close(descriptor) }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
