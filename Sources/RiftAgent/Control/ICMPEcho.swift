import Dispatch
import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// ICMP echo to one IPv4 address, for `riftgate ping`: the same packets `ping` sends, so the answer proves the tunnel
/// carries ordinary traffic both ways (a WireGuard handshake alone does not). Uses an unprivileged ICMP datagram
/// socket where `net.ipv4.ping_group_range` allows it, else a raw socket (root).
final class ICMPEcho {
    private let socket: OwnedDescriptor
    private let raw: Bool
    private let destination: SocketAddress
    /// Identifies our echoes on a raw socket, which sees every ICMP packet; a datagram socket's kernel rewrites it.
    private let identifier = UInt16.random(in: 1...UInt16.max)
    /// Payload marker, so a late reply to another process's echo never counts as ours.
    private let token = (0..<8).map { _ in UInt8.random(in: 0...255) }

    /// Opens the socket; fails if `address` is not an IPv4 address or no ICMP socket may be opened.
    init(ipv4 address: String) throws(AgentError) {
        guard let resolved = try? SystemCall.resolve(address, port: nil, type: .datagram, numeric: true).first,
              resolved.family == AF_INET else {
            throw AgentError.system("\(address) is not an IPv4 address")
        }
        destination = resolved
        do {
            socket = OwnedDescriptor(try SystemCall.socket(AF_INET, .datagram, protocol: Int32(IPPROTO_ICMP)))
            raw = false
        } catch {
            do {
                socket = OwnedDescriptor(try SystemCall.socket(AF_INET, .raw, protocol: Int32(IPPROTO_ICMP)))
                raw = true
            } catch {
                throw AgentError.privilege("cannot open an ICMP socket (\(error.reason)): run as root")
            }
        }
    }

    /// Sends echo `sequence` and waits up to `timeout` seconds for its reply; returns the round trip in seconds, or
    /// nil on timeout. Fails only if the packet cannot be sent at all (no route, for instance).
    func echo(sequence: UInt16, timeout: Double) throws(AgentError) -> Double? {
        var packet: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff),
                               UInt8(sequence >> 8), UInt8(sequence & 0xff)] + token + Array(repeating: 0x5a, count: 24)
        let sum = Self.checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xff)
        let started = DispatchTime.now().uptimeNanoseconds
        do { try SystemCall.send(socket.rawValue, packet, to: destination) } catch {
            throw AgentError.system("cannot send an ICMP echo: \(error.reason)")
        }
        let deadline = started + UInt64(timeout * 1e9)
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            let timeLeft = Int32(max(1, (deadline - now) / 1_000_000))
            guard (try? SystemCall.wait(for: POLLIN, on: socket.rawValue, timeoutMilliseconds: timeLeft)) == true else { continue }
            guard let count = try? SystemCall.receive(socket.rawValue, into: &buffer), count > 0 else { continue }
            if isReply(buffer[0..<count], sequence: sequence) {
                return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            }
        }
    }

    /// An echo reply to this echo: on a raw socket, after the IP header, with our identifier; our marker either way.
    private func isReply(_ bytes: ArraySlice<UInt8>, sequence: UInt16) -> Bool {
        var start = bytes.startIndex
        if raw {
            guard let first = bytes.first else { return false }
            start += Int(first & 0x0f) * 4
        }
        guard bytes.endIndex - start >= 16, bytes[start] == 0 else { return false }
        if raw, UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5]) != identifier { return false }
        guard UInt16(bytes[start + 6]) << 8 | UInt16(bytes[start + 7]) == sequence else { return false }
        return Array(bytes[(start + 8)..<(start + 16)]) == token
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
