import Dispatch
import FoundationEssentials
import RiftSupport
import Synchronization
internal import CRiftLinux
#if canImport(Glibc)
import Glibc
#endif

/// The thread that reads WireGuard's datagrams from every `ForwardingSocket` and sends them over ICE.
///
/// One thread for all peers: `epoll` tells which sockets are readable, `recvmmsg` drains up to `batchSize`
/// datagrams per system call into buffers allocated once, and the whole batch goes to the ICE link in one call
/// (`nice_agent_send_messages_nonblocking`). Each epoll registration carries its `ForwardingRoute` as an unmanaged
/// pointer, so a wake-up does no lookup, no locking and no allocation. The ICE → WireGuard direction runs on the ICE
/// thread (see `WireGuardDelivery`).
final class ForwardingLoop: Sendable {
    /// Sends a batch of datagrams over ICE; returns how many were accepted.
    typealias Sender = @Sendable (UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int

    static let batchSize = 32
    static let bufferBytes = 2048  // larger than any WireGuard datagram at MTU 1380..1500

    private let epoll: Int32
    /// Every registered route, by descriptor: what keeps each route alive while epoll holds its pointer.
    private let routes = Locked<[Int32: ForwardingRoute]>([:])
    /// Routes removed from epoll, released by the loop thread once no wake-up can still be using them.
    private let retired = Locked<[ForwardingRoute]>([])
    private let hasRetired = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    /// Datagrams and bytes forwarded from WireGuard to ICE, and datagrams ICE refused (no pair yet).
    let packetsOut = Atomic<UInt64>(0)
    let bytesOut = Atomic<UInt64>(0)
    let dropsOut = Atomic<UInt64>(0)

    init() throws(AgentError) {
        do { epoll = try SystemCall.retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) } } catch {
            throw AgentError.system("\(error)")
        }
        do {
            try JoinableThread.spawn(name: "riftgate-forward") { [self] in loop() }.detach()
        } catch {
            close(epoll)
            throw AgentError.system("forwarding thread: \(error)")
        }
    }

    /// Starts forwarding `socket`'s datagrams with `send`.
    func add(_ socket: ForwardingSocket, send: @escaping Sender) {
        let route = ForwardingRoute(socket: socket, send: send)
        routes.withLock { $0[socket.descriptor] = route }
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue)
        event.data.ptr = Unmanaged.passUnretained(route).toOpaque()
        epoll_ctl(epoll, EPOLL_CTL_ADD, socket.descriptor, &event)
    }

    /// Stops forwarding `socket`. Its route is released by the loop thread after the wake-up in progress, so a
    /// pointer epoll already returned stays valid; the socket closes when its last holder lets it go.
    func remove(_ socket: ForwardingSocket) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket.descriptor, nil)
        guard let route = routes.withLock({ $0.removeValue(forKey: socket.descriptor) }) else { return }
        retired.withLock { $0.append(route) }
        hasRetired.store(true, ordering: .releasing)
    }

    /// Stops the thread and releases every route. Idempotent.
    func shutdown() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func loop() {
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: Self.batchSize * Self.bufferBytes, alignment: 16)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: Self.batchSize)
        let headers = UnsafeMutablePointer<CRiftLinux_mmsghdr>.allocate(capacity: Self.batchSize)
        let datagrams = UnsafeMutablePointer<UnsafeRawBufferPointer>.allocate(capacity: Self.batchSize)
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 16)
        // Set up once: recvmmsg only writes msg_len and msg_flags (no names, no control data), so the headers and
        // their buffer vectors stay valid for every batch.
        for slot in 0..<Self.batchSize {
            vectors[slot] = iovec(iov_base: buffers + slot * Self.bufferBytes, iov_len: Self.bufferBytes)
            headers[slot] = CRiftLinux_mmsghdr()
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
        }
        datagrams.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: Self.batchSize)
        defer {
            buffers.deallocate(); vectors.deallocate(); headers.deallocate(); events.deallocate()
            datagrams.deinitialize(count: Self.batchSize); datagrams.deallocate()
            let left = routes.withLock { routes in defer { routes = [:] }; return Array(routes.values) }
            for route in left { epoll_ctl(epoll, EPOLL_CTL_DEL, route.socket.descriptor, nil) }
            releaseRetired()
            close(epoll)
            finished.signal()
        }
        while running.load(ordering: .acquiring) {
            if hasRetired.load(ordering: .acquiring) { releaseRetired() }
            let ready = epoll_wait(epoll, events, 16, 100)
            guard ready > 0 else { continue }
            for index in 0..<Int(ready) {
                guard let pointer = events[index].data.ptr else { continue }
                let route = Unmanaged<ForwardingRoute>.fromOpaque(pointer)
                route._withUnsafeGuaranteedRef { route in
                    drain(route, buffers: buffers, headers: headers, datagrams: datagrams)
                }
            }
        }
    }

    private func releaseRetired() {
        hasRetired.store(false, ordering: .relaxed)
        let routes = retired.withLock { list in defer { list = [] }; return list }
        _ = routes  // dropped here, after every wake-up that could still hold their pointers
    }

    private func drain(_ route: ForwardingRoute, buffers: UnsafeMutableRawPointer,
                       headers: UnsafeMutablePointer<CRiftLinux_mmsghdr>,
                       datagrams: UnsafeMutablePointer<UnsafeRawBufferPointer>) {
        let fd = route.socket.descriptor
        while true {
            let count = Int(CRiftLinux_recvmmsg(fd, headers, UInt32(Self.batchSize), Int32(MSG_DONTWAIT)))
            guard count > 0 else { return }
            var bytes = 0
            for slot in 0..<count {
                let length = Int(headers[slot].msg_len)
                datagrams[slot] = UnsafeRawBufferPointer(start: buffers + slot * Self.bufferBytes, count: length)
                bytes += length
            }
            let accepted = route.send(UnsafeBufferPointer(start: datagrams, count: count))
            packetsOut.add(UInt64(count), ordering: .relaxed)
            bytesOut.add(UInt64(bytes), ordering: .relaxed)
            if accepted < count { dropsOut.add(UInt64(count - accepted), ordering: .relaxed) }
            if count < Self.batchSize { return }
        }
    }
}

/// One forwarded socket and the ICE send its datagrams go to; epoll's registration points at it.
final class ForwardingRoute: Sendable {
    let socket: ForwardingSocket
    let send: ForwardingLoop.Sender

    init(socket: ForwardingSocket, send: @escaping ForwardingLoop.Sender) {
        self.socket = socket
        self.send = send
    }
}
