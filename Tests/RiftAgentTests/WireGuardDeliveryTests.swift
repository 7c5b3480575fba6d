import Glibc
import Testing
@testable import RiftAgent

/// The ICE → WireGuard batch on real loopback sockets: a UDP socket plays WireGuard, two forwarding sockets play two
/// forwarded peers.
@Suite("WireGuard delivery batch")
struct WireGuardDeliveryTests {
    @Test("datagrams are held until flush, another socket or a full batch; each arrives once, in order, from its peer's port")
    func batching() throws {
        let wireGuard = try LoopbackReceiver()
        let peerA = try ForwardingSocket(wireGuardPort: wireGuard.port)
        let peerB = try ForwardingSocket(wireGuardPort: wireGuard.port)
        let delivery = WireGuardDelivery()

        for index in 0..<3 { deliver(delivery, [0xA0, UInt8(index)], to: peerA) }
        #expect(delivery.pending == 3)
        #expect(wireGuard.receive(waitingMilliseconds: 50) == nil, "nothing is sent before the batch ends")

        deliver(delivery, [0xB0, 0], to: peerB)  // another peer: A's batch goes first
        #expect(delivery.pending == 1)
        for index in 0..<3 {
            let datagram = try #require(wireGuard.receive(waitingMilliseconds: 5000))
            #expect(datagram.bytes == [0xA0, UInt8(index)])
            #expect(datagram.fromPort == peerA.port)
        }
        delivery.flush()
        #expect(delivery.pending == 0)
        let fromB = try #require(wireGuard.receive(waitingMilliseconds: 5000))
        #expect(fromB.bytes == [0xB0, 0] && fromB.fromPort == peerB.port)

        // A full batch is sent without a flush; a datagram larger than a buffer is sent on its own, in order.
        for index in 0..<WireGuardDelivery.batchSize { deliver(delivery, [0xC0, UInt8(index)], to: peerA) }
        #expect(delivery.pending == 0)
        deliver(delivery, [0xD0, 1], to: peerA)
        deliver(delivery, [UInt8](repeating: 0xEE, count: WireGuardDelivery.bufferBytes + 100), to: peerA)
        #expect(delivery.pending == 0)
        for index in 0..<WireGuardDelivery.batchSize {
            let datagram = try #require(wireGuard.receive(waitingMilliseconds: 5000))
            #expect(datagram.bytes == [0xC0, UInt8(index)])
        }
        #expect(try #require(wireGuard.receive(waitingMilliseconds: 5000)).bytes == [0xD0, 1])
        #expect(try #require(wireGuard.receive(waitingMilliseconds: 5000)).bytes.count == WireGuardDelivery.bufferBytes + 100)

        let counters = delivery.counters
        #expect(counters.sent == 3 + 1 + UInt64(WireGuardDelivery.batchSize) + 2)
        #expect(counters.dropped == 0)
        #expect(counters.batches < counters.sent, "batches share system calls")
        delivery.flush()  // nothing held: no call, no change
        #expect(delivery.counters.batches == counters.batches)
    }

    @Test("a socket whose WireGuard port is closed drops what it cannot send and the batch carries on")
    func refusedPort() throws {
        let port: UInt16
        do {
            let closed = try LoopbackReceiver()
            port = closed.port
        }
        let peer = try ForwardingSocket(wireGuardPort: port)
        let delivery = WireGuardDelivery()
        for round in 0..<3 {
            for index in 0..<4 { deliver(delivery, [UInt8(round), UInt8(index)], to: peer) }
            delivery.flush()
            #expect(delivery.pending == 0)
        }
        let counters = delivery.counters
        #expect(counters.sent + counters.dropped == 12)
    }

    private func deliver(_ delivery: WireGuardDelivery, _ bytes: [UInt8], to socket: ForwardingSocket) {
        bytes.withUnsafeBytes { delivery.append($0, to: socket) }
    }
}

/// A loopback UDP socket standing in for WireGuard's listen port.
private final class LoopbackReceiver {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { close(fd) }
            throw LoopbackError()
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    /// The next datagram and its sender's port, or nil when none arrives within the wait.
    func receive(waitingMilliseconds wait: Int32) -> (bytes: [UInt8], fromPort: UInt16)? {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, wait) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var sender = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &sender) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer[0..<count]), UInt16(bigEndian: sender.sin_port))
    }
}

private struct LoopbackError: Error {}
