#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP socket on 127.0.0.1 for tests that must misbehave or speak HTTP by hand.
/// Every blocking call waits with `poll` and a timeout.
final class RawSocket {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects to 127.0.0.1:`port`.
    static func connect(port: UInt16) throws -> RawSocket {
        let socket = RawSocket(descriptor: Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        var address = loopback(port: port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw Failure(description: "connect to port \(port) failed: errno \(errno)") }
        return socket
    }

    /// Listens on an ephemeral port of 127.0.0.1; returns the socket and its port.
    static func listen() throws -> (RawSocket, UInt16) {
        let socket = RawSocket(descriptor: Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket.descriptor, pointer, length) == 0 && Glibc.listen(socket.descriptor, 16) == 0
                    && getsockname(socket.descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "cannot listen: errno \(errno)") }
        return (socket, UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection within `timeout`.
    func accept(timeout: Duration = .seconds(5)) throws -> RawSocket {
        guard try waitReadable(timeout) else { throw Failure(description: "no connection to accept") }
        let accepted = Glibc.accept(descriptor, nil, nil)
        guard accepted >= 0 else { throw Failure(description: "accept failed: errno \(errno)") }
        return RawSocket(descriptor: accepted)
    }

    /// Writes all of `bytes`.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += written
        }
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Reads whatever arrives next (at most `limit` bytes); empty at end of stream.
    func receive(limit: Int = 65_536, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        guard try waitReadable(timeout) else { throw Failure(description: "nothing received within \(timeout)") }
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, limit, 0) }
        guard count >= 0 else { return [] }  // a reset counts as the end
        return Array(buffer.prefix(count))
    }

    /// Reads exactly `count` bytes; throws if the stream ends first.
    func receiveExactly(_ count: Int, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let chunk = try receive(limit: count - bytes.count, timeout: timeout)
            if chunk.isEmpty { throw Failure(description: "stream ended after \(bytes.count) of \(count) bytes") }
            bytes += chunk
        }
        return bytes
    }

    /// Reads until the stream ends, returning everything.
    func receiveAll(timeout: Duration = .seconds(5)) throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try receive(timeout: timeout)
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Reads until `marker` has arrived, returning everything read.
    func receive(through marker: String, timeout: Duration = .seconds(5)) throws -> String {
        var all: [UInt8] = []
        let wanted = Array(marker.utf8)
        while !all.ends(with: wanted) && !all.containsSubsequence(wanted) {
            let chunk = try receive(limit: 1, timeout: timeout)
            if chunk.isEmpty { break }
            all += chunk
        }
        return String(decoding: all, as: UTF8.self)
    }

    /// True when the peer closed the connection within `timeout` (data before the end is skipped).
    func waitForEnd(timeout: Duration) throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            guard try waitReadable(deadline - clock.now) else { return false }
            if try receive(timeout: .zero).isEmpty { return true }
        }
        return false
    }

    private func waitReadable(_ timeout: Duration) throws -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: max(0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&entry, 1, milliseconds)
        guard ready >= 0 else { throw Failure(description: "poll failed: errno \(errno)") }
        return ready > 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }

    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
