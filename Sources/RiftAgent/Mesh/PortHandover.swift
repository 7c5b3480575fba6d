import RiftProtocol

/// A reflexive pair carried by WireGuard itself, without the agent's forwarding hop: WireGuard sends to the remote
/// candidate's address, and two stateless nftables rules (`HandoverRuleset`) make its datagrams leave from the local
/// ICE socket's port, whose NAT mapping ICE's checks proved, and hand the peer's non-STUN datagrams arriving on that
/// port to WireGuard's (docs/architecture.md, "Port hand-over").
public struct PortHandover: Sendable, Hashable, CustomStringConvertible {
    /// The local candidate's base: the host socket libnice sends the checks from (address L, port P).
    public var local: TransportAddress
    /// The remote candidate: where the peer's checks came from and go to (address R, port Rp).
    public var remote: TransportAddress

    /// Creates a hand-over.
    public init(local: TransportAddress, remote: TransportAddress) {
        self.local = local
        self.remote = remote
    }

    /// The hand-over for a selected pair, or nil when the pair needs another path: a relayed end (the relay speaks
    /// TURN, which WireGuard does not), two host ends (WireGuard goes direct, listen port to listen port), an unknown
    /// local base, or ends of different address families.
    public init?(local: CandidateEndpoint, remote: CandidateEndpoint, localIsHost: Bool, remoteIsHost: Bool) {
        guard local.kind != .relayed, remote.kind != .relayed, !(localIsHost && remoteIsHost) else { return nil }
        let base = local.base ?? (local.kind == .host ? TransportAddress(address: local.address, port: local.port) : nil)
        guard let base, base.port != 0, remote.port != 0 else { return nil }
        let remoteAddress = TransportAddress(address: remote.address, port: remote.port)
        guard base.isIPv6 == remoteAddress.isIPv6 else { return nil }
        self.init(local: base, remote: remoteAddress)
    }

    public var description: String { "\(local) -> \(remote)" }
}
