import Foundation
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// A resolved UDP destination: the socket address bytes and their text form.
struct ProbeDestination: Sendable, Hashable {
    /// `AF_INET` or `AF_INET6`.
    let family: Int32
    /// The raw `sockaddr_in`/`sockaddr_in6`.
    let storage: [UInt8]
    /// The address as text (no port).
    let address: String

    /// The same address with another port.
    func with(port: UInt16) -> ProbeDestination {
        var bytes = storage
        bytes[2] = UInt8(port >> 8)
        bytes[3] = UInt8(port & 0xFF)
        return ProbeDestination(family: family, storage: bytes, address: address)
    }

    /// Every UDP address `host` resolves to, IPv4 first. Empty when it does not resolve.
    static func resolve(_ host: String, port: UInt16) -> [ProbeDestination] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var result: [ProbeDestination] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            let info = entry.pointee
            if let address = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))
                let text = SystemCall.numericAddress(address, length: info.ai_addrlen)?.host ?? ""
                let destination = ProbeDestination(family: info.ai_family, storage: bytes, address: text)
                if !result.contains(destination) { result.append(destination) }
            }
            cursor = info.ai_next
        }
        return result.sorted { $0.family == AF_INET && $1.family != AF_INET }
    }
}

/// One unconnected UDP socket for STUN probes: every probe leaves from the same local port, which is what makes the
/// mappings seen by two server ports comparable. Owns its descriptor.
final class ProbeSocket {
    private let descriptor: Int32
    /// The local port bound.
    let localPort: UInt16

    /// Opens a socket of `family` on an ephemeral port. Fails when the family is unavailable.
    init(family: Int32) throws(AgentError) {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AgentError.system("UDP socket: \(String(cString: strerror(errno)))") }
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(family)
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        var named = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && getsockname(fd, address, &named) == 0
            }
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("UDP socket: \(reason)")
        }
        descriptor = fd
        localPort = withUnsafeBytes(of: &storage) { UInt16($0[2]) << 8 | UInt16($0[3]) }
    }

    deinit { close(descriptor) }

    /// Sends `datagram` to `destination`; false when the system refuses (no route, family unavailable).
    func send(_ datagram: [UInt8], to destination: ProbeDestination) -> Bool {
        destination.storage.withUnsafeBytes { address in
            datagram.withUnsafeBytes { bytes in
                sendto(descriptor, bytes.baseAddress, bytes.count, 0, address.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                       socklen_t(address.count)) == bytes.count
            }
        }
    }

    /// The next datagram, waiting at most `milliseconds`; nil on timeout.
    func receive(milliseconds: Int32) -> [UInt8]? {
        var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptorSet, 1, max(0, milliseconds)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1500)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    /// The local address the system would use to reach `destination` (a connected socket, no packet sent), for telling
    /// whether a mapping was translated.
    static func localAddress(towards destination: ProbeDestination) -> String? {
        let fd = socket(destination.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = destination.storage.withUnsafeBytes {
            connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard connected == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 ? SystemCall.numericAddress(storage, length: length)?.host : nil
    }
}
