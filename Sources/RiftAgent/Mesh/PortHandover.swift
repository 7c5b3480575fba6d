import RiftProtocol

/// A pair carried by WireGuard itself, without the agent's forwarding hop: WireGuard sends to the remote candidate's
/// address, and two stateless nftables rules (`HandoverRuleset`) make its datagrams leave from the local ICE socket's
/// port, whose NAT mapping ICE's checks proved, and hand the peer's non-STUN datagrams arriving on that port to
/// WireGuard's (docs/architecture.md, "Port hand-over"). The remote candidate may be the peer's TURN relay: only the
/// side whose local candidate is the relay speaks TURN; to this side the relay is a plain UDP address.
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

    /// The hand-over for a selected pair, or nil when the pair needs another path: a relayed local end (this side
    /// must frame every datagram as TURN ChannelData or a Send indication, which WireGuard cannot), two host ends
    /// (WireGuard goes direct, listen port to listen port), an unknown local base, or ends of different address
    /// families. A relayed *remote* end is handed over like a reflexive one: the peer's relay receives raw UDP from
    /// this side's mapped address (its permission, created by the peer for this address, is what ICE's checks used),
    /// and it sends the peer's datagrams to this side as raw UDP from the relayed address.
    public init?(local: CandidateEndpoint, remote: CandidateEndpoint, localIsHost: Bool, remoteIsHost: Bool) {
        guard local.kind != .relayed, !(localIsHost && remoteIsHost) else { return nil }
        let base = local.base ?? (local.kind == .host ? TransportAddress(address: local.address, port: local.port) : nil)
        guard let base, base.port != 0, remote.port != 0 else { return nil }
        let remoteAddress = TransportAddress(address: remote.address, port: remote.port)
        guard base.isIPv6 == remoteAddress.isIPv6 else { return nil }
        self.init(local: base, remote: remoteAddress)
    }

    public var description: String { "\(local) -> \(remote)" }
}
