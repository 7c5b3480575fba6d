import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// A loopback UDP socket that stands in for one remote peer in front of the local WireGuard device.
///
/// WireGuard's endpoint for the peer is this socket's address; the socket is connected to WireGuard's listen port,
/// so only WireGuard's datagrams reach it. Buffers are sized for throughput: with the kernel's ~208 KiB default a
/// burst from WireGuard overflows the queue before the forwarding thread drains it.
final class ForwardingSocket: Sendable {
    /// The socket, owned by this object and closed when it is freed: the forwarding loop's route and any pending
    /// delivery batch hold the object, so the descriptor is never closed (and reused) under a read or send.
    private let socket: OwnedDescriptor
    /// The socket's descriptor number.
    var descriptor: Int32 { socket.rawValue }
    /// The loopback port WireGuard sends this peer's packets to.
    let port: UInt16

    /// Socket buffer size requested for each direction.
    static let bufferBytes: Int32 = 4 << 20

    /// Opens a socket on 127.0.0.1 (ephemeral port) connected to 127.0.0.1:`wireGuardPort`.
    init(wireGuardPort: UInt16) throws(AgentError) {
        do {
            socket = OwnedDescriptor(try SystemCall.socket(AF_INET, .datagram, nonBlocking: true))
        } catch {
            throw AgentError.system("forwarding socket: \(error.reason)")
        }
        // The FORCE variants exceed rmem_max/wmem_max but need CAP_NET_ADMIN; the plain ones are the fallback.
        for option in [SO_RCVBUFFORCE, SO_SNDBUFFORCE, SO_RCVBUF, SO_SNDBUF] {
            try? SystemCall.setOption(socket.rawValue, level: SOL_SOCKET, option, Self.bufferBytes)
        }
        do {
            try SystemCall.bind(socket.rawValue, to: .loopbackIPv4(port: 0))
            try SystemCall.connect(socket.rawValue, to: .loopbackIPv4(port: wireGuardPort))
            port = try SystemCall.localAddress(socket.rawValue).port
        } catch {
            throw AgentError.system("forwarding socket: \(error.reason)")
        }
    }
}
