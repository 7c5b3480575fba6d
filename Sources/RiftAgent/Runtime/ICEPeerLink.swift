import RiftNice
import Synchronization

/// One ICE session of one peer generation, with the forwarding socket bound to it when the path is forwarded.
///
/// libnice calls the receive handler on the ICE thread for every datagram; the handler hands it to the forwarding
/// socket (if any) with no allocation. The slot is swapped under a mutex when the path changes.
final class ICEPeerLink: Sendable {
    let session: ICESession
    let instance: UInt64
    private let forwarding = ForwardingSlot()
    let eventTask: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(session: ICESession, instance: UInt64) {
        self.session = session
        self.instance = instance
        session.setReceiveHandler { [forwarding] bytes in
            guard let socket = forwarding.socket.withLock({ $0 }) else { return }
            _ = socket.deliverToWireGuard(bytes)
        }
    }

    /// The forwarding socket in use, if the path is forwarded.
    var forwardingSocket: ForwardingSocket? { forwarding.socket.withLock { $0 } }

    /// Binds (or unbinds, with nil) the forwarding socket; returns the previous one.
    func bind(_ socket: ForwardingSocket?) -> ForwardingSocket? {
        forwarding.socket.withLock { slot in defer { slot = socket }; return slot }
    }

    /// Sends one datagram from WireGuard over the selected pair.
    @Sendable func send(_ bytes: UnsafeRawBufferPointer) -> Bool { session.send(bytes) }

    func close() {
        eventTask.withLock { $0?.cancel() }
        session.close()
    }
}

/// The forwarding socket an ICE receive handler writes to; swapped when the path changes.
final class ForwardingSlot: Sendable {
    let socket = Mutex<ForwardingSocket?>(nil)
}
