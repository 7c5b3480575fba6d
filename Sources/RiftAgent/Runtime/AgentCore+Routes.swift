import Logging
import RiftProtocol
import RiftWireGuard

extension AgentCore {
    /// After a change the route plan may have followed (welcome, peer joined or left): gives WireGuard the new allowed
    /// IPs of each peer whose accepted routes changed and that WireGuard already has with a path (a peer configured
    /// later gets them from `configurePeer`; one added ahead of its path has none until then, see
    /// `provisionWireGuardPeer`). Endpoint and keepalive stay as WireGuard has them.
    func refreshRoutedPeers() {
        var current: [PublicKey: [String]] = [:]
        for key in mesh.peers.keys {
            let routes = environment.routes.allowedIPs(for: key)
            if !routes.isEmpty { current[key] = routes }
        }
        guard current != routeAllowedIPs else { return }
        let changed = Set(current.keys).union(routeAllowedIPs.keys).filter { current[$0] != routeAllowedIPs[$0] }
        routeAllowedIPs = current
        guard let device else { return }
        let status: WireGuardDeviceStatus
        do { status = try device.status() } catch {
            logger.warning("cannot read WireGuard to update routed peers' allowed IPs: \(error)")
            return
        }
        let pointed = status.peers.filter { changed.contains($0.publicKey) && wireGuardPeers[$0.publicKey] == .pointed }
        for configured in pointed {
            guard let info = mesh.peers[configured.publicKey]?.info else { continue }
            let peer = wireGuardPeer(info, endpoint: nil, keepalive: configured.persistentKeepalive)
            do { try device.setPeer(peer) } catch { logger.warning("cannot update the allowed IPs of \(info.name): \(error)") }
        }
    }
}
