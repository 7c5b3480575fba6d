import Synchronization

/// The real `PacketForwarder`: one loopback UDP socket per forwarded ICE session, drained by the forwarding thread.
///
/// libnice calls a session's receive handler on the ICE thread for every datagram; the handler hands it to the socket
/// bound in the session's slot, with no allocation. Unbinding empties the slot under its mutex before the socket is
/// retired, so the handler never writes to a socket the forwarding thread is closing.
final class SocketForwarder: PacketForwarder {
    private let loop: ForwardingLoop
    private let slots = Mutex<[UInt64: ForwardingSlot]>([:])

    /// Starts the forwarding thread. Fails when epoll is not available.
    init() throws(AgentError) {
        loop = try ForwardingLoop()
    }

    func forward(instance: UInt64, link: any ICELink, wireGuardPort: UInt16) throws(AgentError) -> UInt16 {
        if let socket = slots.withLock({ $0[instance] })?.socket.withLock({ $0 }) { return socket.port }
        let socket = try ForwardingSocket(wireGuardPort: wireGuardPort)
        let slot = ForwardingSlot()
        slot.socket.withLock { $0 = socket }
        slots.withLock { $0[instance] = slot }
        link.setReceiveHandler { [slot] bytes in
            guard let socket = slot.socket.withLock({ $0 }) else { return }
            _ = socket.deliverToWireGuard(bytes)
        }
        loop.add(socket, send: { [link] bytes in link.send(bytes) })
        return socket.port
    }

    func stopForwarding(instance: UInt64) {
        guard let slot = slots.withLock({ $0.removeValue(forKey: instance) }),
              let socket = slot.socket.withLock({ slot in defer { slot = nil }; return slot }) else { return }
        loop.remove(socket)
    }

    func shutdown() {
        slots.withLock { slots in
            for slot in slots.values { slot.socket.withLock { $0 = nil } }
            slots.removeAll()
        }
        loop.shutdown()
    }
}

/// The forwarding socket an ICE receive handler writes to; emptied when forwarding stops.
final class ForwardingSlot: Sendable {
    let socket = Mutex<ForwardingSocket?>(nil)
}
