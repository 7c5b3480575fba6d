import Foundation
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// ICMP echo to one IPv4 address, for `riftgate ping`: the same packets `ping` sends, so the answer proves the tunnel
/// carries ordinary traffic both ways (a WireGuard handshake alone does not). Uses an unprivileged ICMP datagram
/// socket where `net.ipv4.ping_group_range` allows it, else a raw socket (root).
final class ICMPEcho {
    private let descriptor: Int32
    private let raw: Bool
    private var destination = sockaddr_in()
    /// Identifies our echoes on a raw socket, which sees every ICMP packet; a datagram socket's kernel rewrites it.
    private let identifier = UInt16.random(in: 1...UInt16.max)
    /// Payload marker, so a late reply to another process's echo never counts as ours.
    private let token = (0..<8).map { _ in UInt8.random(in: 0...255) }

    /// Opens the socket; fails if `address` is not an IPv4 address or no ICMP socket may be opened.
    init(ipv4 address: String) throws(AgentError) {
        destination.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &destination.sin_addr) == 1 else {
            throw AgentError.system("\(address) is not an IPv4 address")
        }
        var fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
        var isRaw = false
        if fd < 0 {
            fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
            isRaw = true
        }
        guard fd >= 0 else {
            throw AgentError.privilege("cannot open an ICMP socket (\(String(cString: strerror(errno)))): run as root")
        }
        descriptor = fd
        raw = isRaw
    }

    deinit { close(descriptor) }

    /// Sends echo `sequence` and waits up to `timeout` seconds for its reply; returns the round trip in seconds, or
    /// nil on timeout. Fails only if the packet cannot be sent at all (no route, for instance).
    func echo(sequence: UInt16, timeout: Double) throws(AgentError) -> Double? {
        var packet: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff),
                               UInt8(sequence >> 8), UInt8(sequence & 0xff)] + token + Array(repeating: 0x5a, count: 24)
        let sum = Self.checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xff)
        let started = DispatchTime.now().uptimeNanoseconds
        let sent = withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == packet.count else {
            throw AgentError.system("cannot send an ICMP echo: \(String(cString: strerror(errno)))")
        }
        let deadline = started + UInt64(timeout * 1e9)
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, (deadline - now) / 1_000_000)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
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
