import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// A resolved UDP destination: the socket address and its text form.
struct ProbeDestination: Sendable, Hashable {
    /// The IPv4 or IPv6 socket address.
    let socketAddress: SocketAddress
    /// The address as text (no port).
    let address: String

    /// `AF_INET` or `AF_INET6`.
    var family: Int32 { socketAddress.family }

    /// The same address with another port.
    func with(port: UInt16) -> ProbeDestination {
        ProbeDestination(socketAddress: socketAddress.with(port: port), address: address)
    }

    /// Every UDP address `host` resolves to, IPv4 first. Empty when it does not resolve.
    static func resolve(_ host: String, port: UInt16) -> [ProbeDestination] {
        let found = (try? SystemCall.resolve(host, port: port, type: .datagram)) ?? []
        let destinations = found.filter { $0.family == AF_INET || $0.family == AF_INET6 }.map {
            ProbeDestination(socketAddress: $0, address: $0.numeric?.host ?? "")
        }
        return destinations.sorted { $0.family == AF_INET && $1.family != AF_INET }
    }
}

/// One unconnected UDP socket for STUN probes: every probe leaves from the same local port, which is what makes the
/// mappings seen by two server ports comparable. Owns its descriptor.
final class ProbeSocket {
    private let socket: OwnedDescriptor
    /// The local port bound.
    let localPort: UInt16

    /// Opens a socket of `family` on an ephemeral port. Fails when the family is unavailable.
    init(family: Int32) throws(AgentError) {
        do {
            socket = OwnedDescriptor(try SystemCall.socket(family, .datagram))
            try SystemCall.bind(socket.rawValue, to: .unspecified(family: family))
            localPort = try SystemCall.localAddress(socket.rawValue).port
        } catch {
            throw AgentError.system("UDP socket: \(error.reason)")
        }
    }

    /// Sends `datagram` to `destination`; false when the system refuses (no route, family unavailable).
    func send(_ datagram: [UInt8], to destination: ProbeDestination) -> Bool {
        (try? SystemCall.send(socket.rawValue, datagram, to: destination.socketAddress)) == datagram.count
    }

    /// The next datagram, waiting at most `milliseconds`; nil on timeout.
    func receive(milliseconds: Int32) -> [UInt8]? {
        guard (try? SystemCall.wait(for: POLLIN, on: socket.rawValue, timeoutMilliseconds: max(0, milliseconds))) == true else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1500)
        guard let count = try? SystemCall.receive(socket.rawValue, into: &buffer), count > 0 else { return nil }
        return Array(buffer[..<count])
    }

    /// The local address the system would use to reach `destination` (a connected socket, no packet sent), for telling
    /// whether a mapping was translated.
    static func localAddress(towards destination: ProbeDestination) -> String? {
        guard let socket = try? OwnedDescriptor(SystemCall.socket(destination.family, .datagram)),
              (try? SystemCall.connect(socket.rawValue, to: destination.socketAddress)) != nil else { return nil }
        return (try? SystemCall.localAddress(socket.rawValue))?.numeric?.host
    }
}
