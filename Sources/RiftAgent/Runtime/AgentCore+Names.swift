import RiftDNS
import RiftProtocol

extension AgentCore {
    /// The network's names as the hub last described them: this agent and every peer that has a DNS label, under the
    /// welcome's domain; nil when the hub speaks no protocol version 3 (no domain).
    static func nameZone(_ welcome: Welcome, peers: [PeerInfo]) -> DNSZone? {
        guard let domain = welcome.dnsDomain else { return nil }
        let hosts = ([welcome.me] + peers).compactMap { peer in
            peer.dnsName.map { DNSHost(label: $0, ipv4: peer.ipv4.description, ipv6: peer.ipv6.description) }
        }
        return DNSZone(domain: domain, hosts: hosts)
    }

    /// The zone from the mesh's current peers (their latest `PeerInfo`, renames included).
    private var currentNameZone: DNSZone? {
        guard let welcome = mesh.welcome else { return nil }
        return Self.nameZone(welcome, peers: mesh.peers.values.map(\.info).sorted { $0.publicKey.base64 < $1.publicKey.base64 })
    }

    /// After a welcome: the resolver answers on this agent's overlay addresses (started if need be), or stops when
    /// the hub gives no domain. Nothing with `dns = false`.
    func serveNames() {
        guard configuration.dns else { return }
        guard let welcome = mesh.welcome, let zone = currentNameZone else {
            environment.names.stop()
            return
        }
        environment.names.serve(zone, on: [welcome.me.ipv4.description, welcome.me.ipv6.description])
    }

    /// A peer joined (or was renamed: a known key with a new label) or left: the resolver's zone follows.
    func updateNames() {
        guard configuration.dns, let zone = currentNameZone else { return }
        environment.names.update(zone)
    }
}
