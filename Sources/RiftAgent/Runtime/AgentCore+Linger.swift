import Logging
import RiftProtocol
import RiftWireGuard

/// A forwarding socket the mesh let go of, kept open for `AgentCore.lingerMilliseconds` (and, when the mesh closed
/// its ICE session too, that session).
struct LingeringForwarding {
    /// The peer the socket carried.
    var peer: PublicKey
    /// The ICE session to close at the end, when the mesh closed it; nil when only the socket was released (the
    /// session itself now carries a direct path).
    var link: (any ICELink)?
    /// Which `lingerOver` event ends it (a later linger of the same instance replaces this one).
    var token: UInt64
}

// Make before break on the way off a forwarded path. The two sides change paths on their own selections, 20–40 ms
// apart for a pair change and more for a new generation; until the peer changes too, its WireGuard still sends over
// the old pair, through its own forwarding socket and ICE session, to ours. Released at once, those datagrams were
// dropped. So a forwarding socket the mesh releases, or whose session it closes, stays open for a few seconds:
// what still arrives reaches WireGuard through it (WireGuard's endpoint roaming follows the datagram to the loopback
// socket, whose replies still go out over the old pair, and back with the peer's next datagram on the new path).
// When the linger ends, WireGuard is pointed back at the current path if it is still on the loopback socket, and
// only then is the socket closed.
extension AgentCore {
    /// How long a released forwarding socket (and its closed ICE session) stays open, in milliseconds: well beyond the
    /// time between the two sides' selections, and short enough that a retired TURN allocation goes soon.
    public static let lingerMilliseconds: Int64 = 3_000

    /// Keeps ICE session `instance`'s forwarding socket (and `closing`, the session itself, when the mesh closed it)
    /// until `lingerMilliseconds` from now. A session without a forwarding socket carries nothing for WireGuard and
    /// is closed at once.
    func linger(_ peer: PublicKey, instance: UInt64, closing link: (any ICELink)?) {
        guard forwardingPorts[instance] != nil else {
            link?.close()
            return
        }
        lingerTokens &+= 1
        // Closing a session whose socket already lingers: keep the socket, take over the session's close.
        lingering[instance] = LingeringForwarding(peer: peer, link: link ?? lingering[instance]?.link, token: lingerTokens)
        inbox.post(.lingerOver(instance: instance, token: lingerTokens), at: now + Self.lingerMilliseconds)
    }

    /// The mesh binds ICE session `instance`'s forwarding socket again: it is no longer released.
    func keepLingering(instance: UInt64) {
        guard let entry = lingering[instance], entry.link == nil else { return }
        lingering.removeValue(forKey: instance)
    }

    /// A linger ended: point WireGuard back at the peer's current path if it followed a datagram to this socket, then
    /// close the socket (and the session). A later linger or a new binding of the same instance has replaced `token`.
    func lingerOver(instance: UInt64, token: UInt64) {
        guard let entry = lingering[instance], entry.token == token else { return }
        lingering.removeValue(forKey: instance)
        if let port = forwardingPorts[instance] { pointBack(entry.peer, from: port, lingering: instance) }
        forwardingPorts.removeValue(forKey: instance)
        environment.forwarder.stopForwarding(instance: instance)
        entry.link?.close()
    }

    /// Sets the peer's WireGuard endpoint to its current path when WireGuard still sends to loopback `port`.
    private func pointBack(_ key: PublicKey, from port: UInt16, lingering instance: UInt64) {
        guard let device, let session = mesh.peers[key], let path = session.path, let current = session.instance,
              current != instance || !path.isForwarded,
              let endpoint = wireGuardEndpoint(for: path, instance: current),
              (try? device.status())?.peer(key)?.endpoint == "127.0.0.1:\(port)" else { return }
        do {
            try device.setPeer(wireGuardPeer(session.info, endpoint: endpoint, keepalive: Self.keepaliveSeconds))
            logger.info("peer \(session.info.name): WireGuard had followed the peer to the old forwarding socket; back on \(endpoint)")
        } catch {
            logger.warning("cannot point WireGuard peer \(session.info.name) back at \(endpoint): \(error)")
        }
    }

    /// Where WireGuard sends for `path` carried by ICE session `instance`; nil for a forwarded path without a socket.
    func wireGuardEndpoint(for path: DataPathMode, instance: UInt64) -> WireGuardEndpoint? {
        switch path {
        case .direct(let address, let port): WireGuardEndpoint(address: address, port: port)
        case .handedOver(let handover): WireGuardEndpoint(address: handover.remote.address, port: handover.remote.port)
        case .forwarded: forwardingPorts[instance].flatMap { WireGuardEndpoint(address: "127.0.0.1", port: $0) }
        }
    }
}

extension DataPathMode {
    /// Whether WireGuard reaches the peer through the agent's forwarding socket.
    var isForwarded: Bool {
        if case .forwarded = self { true } else { false }
    }
}
