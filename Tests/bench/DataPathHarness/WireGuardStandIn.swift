import Glibc
import Synchronization

/// A loopback UDP socket playing the local WireGuard device: it sends numbered datagrams to a forwarding socket,
/// as wireguard-go does to the endpoint riftgate gives it for a forwarded peer.
final class WireGuardStandIn {
    /// The descriptor, closed in `deinit`.
    let descriptor: Int32
    /// The port the forwarding socket must be connected to.
    let port: UInt16
    private var datagram: [UInt8]

    /// Opens a socket on 127.0.0.1 (ephemeral port); datagrams are `size` bytes. Throws with errno's text.
    init(datagramBytes size: Int) throws(StandInError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StandInError("socket", errno) }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            let code = errno
            close(fd)
            throw StandInError("bind", code)
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
        datagram = [UInt8](repeating: 0x5A, count: max(size, 8))
    }

    deinit { close(descriptor) }

    /// Points every later `send` at 127.0.0.1:`port`. Throws with errno's text.
    func connect(toPort port: UInt16) throws(StandInError) {
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw StandInError("connect", errno) }
    }

    /// Sends one datagram whose first eight bytes carry `sequence` (little-endian). False when the kernel refused it.
    func send(sequence: UInt64) -> Bool {
        withUnsafeBytes(of: sequence.littleEndian) { number in
            datagram.withUnsafeMutableBytes { $0.copyMemory(from: number) }
        }
        return datagram.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) } == datagram.count
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// The ICE side of a forwarded path, minus libnice: counts what the forwarding loop hands it and checks the order.
///
/// `send(batch:)` runs on the forwarding thread only; the counters are read from the test thread.
final class FakeICESend: @unchecked Sendable {
    /// Datagrams received so far (released after each one, so a reader sees the checks before it).
    let delivered = Atomic<Int>(0)
    /// Datagrams that did not carry the next sequence number.
    let outOfOrder = Atomic<Int>(0)
    private var expected: UInt64 = 0

    /// What `ICESession.send(batch:)` would do with WireGuard's datagrams, reduced to an order check and a count.
    func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        var misses = 0
        for bytes in datagrams {
            let sequence = bytes.count >= 8 ? UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)) : .max
            if sequence != expected { misses += 1 }
            expected = sequence &+ 1
        }
        if misses > 0 { outOfOrder.add(misses, ordering: .relaxed) }
        delivered.add(datagrams.count, ordering: .releasing)
        return datagrams.count
    }
}

/// A failed socket call of the stand-in, with errno.
struct StandInError: Error, CustomStringConvertible {
    let call: String
    let code: Int32

    init(_ call: String, _ code: Int32) {
        self.call = call
        self.code = code
    }

    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
