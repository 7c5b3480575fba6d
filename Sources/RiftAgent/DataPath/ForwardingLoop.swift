import Foundation
import RiftSupport
import Synchronization
internal import CRiftLinux
#if canImport(Glibc)
import Glibc
#endif

/// The thread that reads WireGuard's datagrams from every `ForwardingSocket` and sends them over ICE.
///
/// One thread for all peers: `epoll` tells which sockets are readable and `recvmmsg` drains up to `batchSize`
/// datagrams per system call into buffers allocated once, so the hot path does no allocation. The ICE → WireGuard
/// direction runs on the ICE thread (see `ForwardingSocket.deliverToWireGuard`).
final class ForwardingLoop: Sendable {
    typealias Sender = @Sendable (UnsafeRawBufferPointer) -> Bool

    static let batchSize = 32
    static let bufferBytes = 2048  // larger than any WireGuard datagram at MTU 1380..1500

    private let epoll: Int32
    private let routes = Mutex<[Int32: (socket: ForwardingSocket, send: Sender)]>([:])
    private let retired = Mutex<[ForwardingSocket]>([])
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    /// Datagrams and bytes forwarded from WireGuard to ICE, and datagrams ICE refused (no pair yet).
    let packetsOut = Atomic<UInt64>(0)
    let bytesOut = Atomic<UInt64>(0)
    let dropsOut = Atomic<UInt64>(0)

    init() throws(AgentError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw AgentError.system("epoll_create1: \(String(cString: strerror(errno)))") }
        do {
            try JoinableThread.spawn(name: "riftgate-forward") { [self] in loop() }.detach()
        } catch {
            close(epoll)
            throw AgentError.system("forwarding thread: \(error)")
        }
    }

    /// Starts forwarding `socket`'s datagrams with `send`.
    func add(_ socket: ForwardingSocket, send: @escaping Sender) {
        routes.withLock { $0[socket.descriptor] = (socket, send) }
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue)
        event.data.fd = socket.descriptor
        epoll_ctl(epoll, EPOLL_CTL_ADD, socket.descriptor, &event)
    }

    /// Stops forwarding `socket`; it is closed by the loop thread, so a descriptor is never reused under a read.
    func remove(_ socket: ForwardingSocket) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket.descriptor, nil)
        routes.withLock { _ = $0.removeValue(forKey: socket.descriptor) }
        retired.withLock { $0.append(socket) }
    }

    /// Stops the thread and closes every socket. Idempotent.
    func shutdown() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func loop() {
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: Self.batchSize * Self.bufferBytes, alignment: 16)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: Self.batchSize)
        let headers = UnsafeMutablePointer<CRiftLinux_mmsghdr>.allocate(capacity: Self.batchSize)
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 16)
        // Set up once: recvmmsg only writes msg_len and msg_flags (no names, no control data), so the headers and
        // their buffer vectors stay valid for every batch.
        for slot in 0..<Self.batchSize {
            vectors[slot] = iovec(iov_base: buffers + slot * Self.bufferBytes, iov_len: Self.bufferBytes)
            headers[slot] = CRiftLinux_mmsghdr()
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
        }
        defer {
            buffers.deallocate(); vectors.deallocate(); headers.deallocate(); events.deallocate()
            for (fd, _) in routes.withLock({ $0 }) { close(fd) }
            for socket in retired.withLock({ $0 }) { close(socket.descriptor) }
            close(epoll)
            finished.signal()
        }
        while running.load(ordering: .acquiring) {
            for socket in retired.withLock({ list in defer { list = [] }; return list }) { close(socket.descriptor) }
            let ready = epoll_wait(epoll, events, 16, 100)
            guard ready > 0 else { continue }
            for index in 0..<Int(ready) {
                let fd = events[index].data.fd
                guard let send = routes.withLock({ $0[fd]?.send }) else { continue }
                drain(fd, send: send, buffers: buffers, headers: headers)
            }
        }
    }

    private func drain(_ fd: Int32, send: Sender, buffers: UnsafeMutableRawPointer,
                       headers: UnsafeMutablePointer<CRiftLinux_mmsghdr>) {
        while true {
            let count = CRiftLinux_recvmmsg(fd, headers, UInt32(Self.batchSize), Int32(MSG_DONTWAIT))
            guard count > 0 else { return }
            var bytes: UInt64 = 0
            var drops: UInt64 = 0
            for slot in 0..<Int(count) {
                let length = Int(headers[slot].msg_len)
                if !send(UnsafeRawBufferPointer(start: buffers + slot * Self.bufferBytes, count: length)) { drops += 1 }
                bytes += UInt64(length)
            }
            packetsOut.add(UInt64(count), ordering: .relaxed)
            bytesOut.add(bytes, ordering: .relaxed)
            if drops > 0 { dropsOut.add(drops, ordering: .relaxed) }
            if count < Self.batchSize { return }
        }
    }
}
