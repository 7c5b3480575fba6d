import RiftSupport

/// The real `PacketForwarder`: one loopback UDP socket per forwarded ICE session, drained by the forwarding thread.
///
/// libnice calls a session's receive handler on the ICE thread for every datagram; the handler adds it to the
/// `WireGuardDelivery` batch for the socket bound in the session's slot, with no allocation, and the batch goes to
/// WireGuard with one `sendmmsg` at the end of the ICE loop's iteration. WireGuard → ICE runs on `ForwardingLoop`.
/// Unbinding empties the slot under its mutex before the socket is retired, so the handler stops adding to it; a
/// batch still holding the socket keeps it open until sent.
final class SocketForwarder: PacketForwarder {
    private let loop: ForwardingLoop
    private let slots = Locked<[UInt64: ForwardingSlot]>([:])
    /// The ICE → WireGuard batch every session's receive handler fills (they all run on the one ICE thread).
    private let delivery = WireGuardDelivery()

    /// Starts the forwarding thread. Fails when epoll is not available.
    init() throws(AgentError) {
        loop = try ForwardingLoop()
    }

    func forward(instance: UInt64, link: any ICELink, wireGuardPort: UInt16,
                 admit: (@Sendable () -> Bool)?) throws(AgentError) -> UInt16 {
        if let slot = slots.withLock({ $0[instance] }), let socket = slot.socket.withLock({ $0 }) {
            // Already bound: keep the socket WireGuard may be sending to; a new gate replaces the receive handler.
            if admit != nil { receive(on: link, into: slot, admit: admit) }
            return socket.port
        }
        let socket = try ForwardingSocket(wireGuardPort: wireGuardPort)
        let slot = ForwardingSlot()
        slot.socket.withLock { $0 = socket }
        slots.withLock { $0[instance] = slot }
        receive(on: link, into: slot, admit: admit)
        loop.add(socket, send: { [link] datagrams in link.send(batch: datagrams) })
        return socket.port
    }

    /// Makes `link`'s received datagrams go to WireGuard through `slot`'s socket, those `admit` lets through.
    private func receive(on link: any ICELink, into slot: ForwardingSlot, admit: (@Sendable () -> Bool)?) {
        link.setReceiveHandler({ [slot, delivery] bytes in
            guard let socket = slot.socket.withLock({ $0 }), admit?() ?? true else { return }
            delivery.append(bytes, to: socket)
        }, flush: { [delivery] in delivery.flush() })
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
    let socket = Locked<ForwardingSocket?>(nil)
}
