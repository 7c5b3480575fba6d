import RiftProtocol
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Probes a quiet path (`MeshAction.probePath`): one small UDP datagram to the peer's overlay address on the echo port,
/// which the routing table sends through the WireGuard interface like any traffic to the peer. Whatever the peer's
/// machine does with it, its WireGuard answers over the same path if the path works: its kernel with an ICMP
/// port-unreachable (or an echo service with the echo), and where its firewall drops the datagram (an `allow_in`
/// policy), its agent with a keepalive, since the datagram is data (`SendWatch`). The answer is never read here: what
/// counts is WireGuard's received counter moving (`ReceiveWatch`).
///
/// Needs no privilege (an ordinary UDP socket, opened at the first probe and kept). The datagram is 20 bytes, so
/// WireGuard carries it as 80 bytes: more than a keepalive, so both sides count it as data.
public final class OverlayPathProbe: PathProbing {
    /// The destination port: echo (RFC 862), answered by nothing on most machines, which is what makes the kernel answer.
    static let port: UInt16 = 7
    /// The datagram's payload.
    static let payload = Array("riftgate path probe\n".utf8)

    private let socket = Locked<OwnedDescriptor?>(nil)

    /// A probe that opens its socket when first used.
    public init() {}

    public func probe(_ address: IPv4Address) {
        guard let destination = (try? SystemCall.resolve(address.description, port: Self.port, type: .datagram,
                                                          numeric: true))?.first else { return }
        socket.withLock { socket in
            if socket == nil { socket = Self.openSocket() }
            guard let descriptor = socket?.rawValue else { return }
            _ = try? SystemCall.send(descriptor, Self.payload, to: destination)
        }
    }

    /// A non-blocking IPv4 UDP socket with the smallest receive buffer: echoes, if a peer runs an echo service, are
    /// dropped by the kernel instead of piling up unread.
    private static func openSocket() -> OwnedDescriptor? {
        guard let descriptor = try? OwnedDescriptor(SystemCall.socket(AF_INET, .datagram, nonBlocking: true)) else {
            return nil
        }
        _ = try? SystemCall.setOption(descriptor.rawValue, level: SOL_SOCKET, SO_RCVBUF, Int32(1))
        return descriptor
    }
}
