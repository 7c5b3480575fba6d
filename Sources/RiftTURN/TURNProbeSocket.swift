import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// A connected socket for one TURN probe, UDP or TCP. UDP is connected so that an ICMP port unreachable shows up as
/// ECONNREFUSED and only the server's datagrams arrive; over TCP, STUN messages are delimited by their own length field
/// (RFC 5766 §2.1), so `receive` returns one whole message at a time. `init` opens it; it closes when the probe is freed.
final class TURNProbeSocket {
    private let socket: OwnedDescriptor
    private var descriptor: Int32 { socket.rawValue }
    private let stream: Bool
    /// Bytes received over TCP and not yet returned as a message.
    private var pending: [UInt8] = []

    /// What one receive returned.
    enum Reception { case datagram([UInt8]), nothing, refused }

    /// Resolves `host` and connects (over TCP within `connectTimeoutMilliseconds`); nil when the name does not resolve,
    /// no socket can be made, or (TCP) the connection is refused or times out.
    init?(host: String, port: UInt16, transport: TURNTransport = .udp, connectTimeoutMilliseconds: Int32 = 2_000) {
        guard transport != .tls else { return nil }
        stream = transport == .tcp
        let type: SocketType = stream ? .stream : .datagram
        guard let address = (try? SystemCall.resolve(host, port: port, type: type))?.first,
              let socket = try? OwnedDescriptor(SystemCall.socket(address.family, type, nonBlocking: true)),
              Self.connect(socket.rawValue, to: address, timeout: connectTimeoutMilliseconds) else { return nil }
        self.socket = socket
    }

    /// A non-blocking connect bounded by `timeout`: a TCP SYN into a filtering firewall must not hang the probe.
    private static func connect(_ fd: Int32, to address: SocketAddress, timeout: Int32) -> Bool {
        do {
            try SystemCall.connect(fd, to: address)
            return true
        } catch {
            guard error.code == EINPROGRESS,
                  (try? SystemCall.wait(for: POLLOUT, on: fd, timeoutMilliseconds: timeout)) == true else { return false }
            return (try? SystemCall.option(fd, level: SOL_SOCKET, SO_ERROR)) == 0
        }
    }

    /// Whether a lost request must be sent again: over UDP yes, over TCP the stream already retransmits.
    var needsRetransmission: Bool { !stream }

    /// Sends one message; false when the socket reports an error (a refusal from an earlier send included).
    func send(_ message: [UInt8]) -> Bool {
        var offset = 0
        while offset < message.count {
            do {
                let sent = try SystemCall.sendSome(descriptor, message[offset...])
                guard sent > 0 else { return false }
                offset += sent
            } catch where error.code == EAGAIN {
                guard (try? SystemCall.wait(for: POLLOUT, on: descriptor, timeoutMilliseconds: 1_000)) == true else { return false }
            } catch {
                return false
            }
        }
        return true
    }

    /// Waits up to `timeoutMilliseconds` for one message (a datagram, or one length-delimited message over TCP).
    func receive(timeoutMilliseconds: Int32) -> Reception {
        if stream, let message = takeMessage() { return .datagram(message) }
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, timeoutMilliseconds)))
        while true {
            let left = deadline - ContinuousClock.now
            let wait = Int32(max(0, left.components.seconds * 1_000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard (try? SystemCall.wait(for: POLLIN, on: descriptor, timeoutMilliseconds: wait)) == true else { return .nothing }
            var buffer = [UInt8](repeating: 0, count: 1500)
            let received: Int
            do { received = try SystemCall.receive(descriptor, into: &buffer) } catch {
                if error.code == EAGAIN { continue }
                return error.code == ECONNREFUSED || error.code == ECONNRESET ? .refused : .nothing
            }
            if !stream { return .datagram(Array(buffer[..<received])) }
            if received == 0 { return .refused }  // the server closed the connection
            pending += buffer[..<received]
            if let message = takeMessage() { return .datagram(message) }
            if ContinuousClock.now >= deadline { return .nothing }
        }
    }

    /// The first whole STUN message in the TCP buffer, removed from it.
    private func takeMessage() -> [UInt8]? {
        guard pending.count >= 20 else { return nil }
        let total = 20 + (Int(pending[2]) << 8 | Int(pending[3]))
        guard pending.count >= total else { return nil }
        let message = Array(pending[..<total])
        pending.removeFirst(total)
        return message
    }
}
