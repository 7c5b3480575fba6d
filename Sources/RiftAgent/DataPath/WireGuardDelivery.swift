import RiftSupport
internal import CRiftLinux
#if canImport(Glibc)
import Glibc
#endif

/// Datagrams that arrived over ICE, batched on their way to WireGuard: each is copied into a buffer allocated once,
/// and a batch goes out with one `sendmmsg` instead of one `send` per datagram.
///
/// A batch holds datagrams for one forwarding socket (the loopback port that stands for their peer): a datagram for
/// another socket, a full batch or `flush()` sends what is held. The ICE thread calls `append` from libnice's
/// receive callback and `flush` at the end of the loop iteration (`ICESession.setReceiveHandler(_:flush:)`), so a
/// lone datagram waits only for the rest of that iteration. One batch serves every peer (64 KiB in all, not per
/// peer). A mutex makes it safe from any thread; on the ICE thread it is never contended. The batch holds its
/// socket until sent, so the descriptor cannot be closed and reused in between.
final class WireGuardDelivery: @unchecked Sendable {
    static let batchSize = 32
    static let bufferBytes = 2048  // larger than any WireGuard datagram at MTU 1380..1500

    private let lock = Locked(())
    private let buffers: UnsafeMutableRawPointer
    private let vectors: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<CRiftLinux_mmsghdr>
    // Under `lock`.
    private var count = 0
    private var target: ForwardingSocket?
    private var sentTotal: UInt64 = 0
    private var droppedTotal: UInt64 = 0
    private var batchesTotal: UInt64 = 0

    init() {
        buffers = UnsafeMutableRawPointer.allocate(byteCount: Self.batchSize * Self.bufferBytes, alignment: 16)
        vectors = UnsafeMutablePointer<iovec>.allocate(capacity: Self.batchSize)
        headers = UnsafeMutablePointer<CRiftLinux_mmsghdr>.allocate(capacity: Self.batchSize)
        for slot in 0..<Self.batchSize {
            vectors[slot] = iovec(iov_base: buffers + slot * Self.bufferBytes, iov_len: 0)
            headers[slot] = CRiftLinux_mmsghdr()
            headers[slot].msg_hdr.msg_iov = vectors + slot
            headers[slot].msg_hdr.msg_iovlen = 1
        }
    }

    deinit {
        buffers.deallocate()
        vectors.deallocate()
        headers.deallocate()
    }

    /// Datagrams handed to the kernel, datagrams dropped (full socket queue, no listener) and `sendmmsg` calls made.
    var counters: (sent: UInt64, dropped: UInt64, batches: UInt64) {
        lock.withLock { _ in (sentTotal, droppedTotal, batchesTotal) }
    }

    /// The number of datagrams held, not yet sent.
    var pending: Int { lock.withLock { _ in count } }

    /// Adds one datagram for `socket`, sending first what is held for another socket and afterwards a full batch.
    /// A datagram larger than a buffer is sent on its own, in order.
    func append(_ bytes: UnsafeRawBufferPointer, to socket: ForwardingSocket) {
        lock.withLock { _ in
            if target !== socket {
                sendHeld()
                target = socket
            }
            guard bytes.count <= Self.bufferBytes else {
                sendHeld()
                let sent = send(socket.descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT)) == bytes.count
                if sent { sentTotal += 1 } else { droppedTotal += 1 }
                return
            }
            if let base = bytes.baseAddress { vectors[count].iov_base!.copyMemory(from: base, byteCount: bytes.count) }
            vectors[count].iov_len = bytes.count
            count += 1
            if count == Self.batchSize { sendHeld() }
        }
    }

    /// Sends what is held. Never blocks: a full socket queue drops the rest, as a congested link would.
    func flush() {
        lock.withLock { _ in sendHeld() }
    }

    /// Sends the held datagrams (under `lock`) and lets go of their socket.
    private func sendHeld() {
        defer { target = nil }
        guard count > 0, let socket = target else { return }
        var next = 0
        var skipped = 0
        while next < count {
            let result = Int(CRiftLinux_sendmmsg(socket.descriptor, headers + next, UInt32(count - next), Int32(MSG_DONTWAIT)))
            batchesTotal += 1
            if result > 0 {
                next += result
            } else if result < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                // An error reported on the first datagram (e.g. WireGuard's port refused an earlier one): skip it.
                skipped += 1
                next += 1
            } else {
                break  // the socket queue is full: drop the rest
            }
        }
        sentTotal += UInt64(next - skipped)
        droppedTotal += UInt64(count - next + skipped)
        count = 0
    }
}
