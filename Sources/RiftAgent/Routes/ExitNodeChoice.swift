import RiftProtocol

/// Which peer `exit_node` names, and whether traffic may go through it now.
///
/// `exit_node` is matched, ignoring case, against each present peer's DNS label (the first label of
/// `PeerInfo.dns_name`, e.g. `laptop-b` of `laptop-b.home.rift`) first, then against its name. The peer is used only
/// while it is present AND approved as an exit node (`PeerInfo.exit_node`); otherwise nothing is routed through it
/// (fail open: the host keeps its own default route) and `state` says why.
public struct ExitNodeChoice: Sendable, Equatable {
    /// The peer to route through; nil while waiting.
    public var peer: PublicKey?
    /// `active`, or `waiting: <reason>`.
    public var state: String

    /// Chooses among `peers` (the present ones), `approved` telling whether a peer is an approved exit node.
    public init(wanted: String, peers: [PeerInfo], approved: (PeerInfo) -> Bool) {
        let key = wanted.lowercased()
        let sorted = peers.sorted { $0.publicKey < $1.publicKey }
        let match = sorted.first { Self.dnsLabel($0)?.lowercased() == key } ?? sorted.first { $0.name.lowercased() == key }
        guard let match else {
            peer = nil
            state = "waiting: no peer named \(wanted) is in the network"
            return
        }
        guard approved(match) else {
            peer = nil
            state = "waiting: \(match.name) is not an approved exit node (it must run --advertise-exit-node, and an admin `riftgate-hub route approve <network> \(match.name) exit-node`)"
            return
        }
        peer = match.publicKey
        state = "active"
    }

    /// Nothing chosen yet (before the hub's welcome).
    public init(waiting reason: String) {
        peer = nil
        state = "waiting: " + reason
    }

    /// The peer's DNS label: the first label of its `dns_name`.
    static func dnsLabel(_ peer: PeerInfo) -> String? {
        peer.dnsName.flatMap { $0.split(separator: ".", maxSplits: 1).first.map(String.init) }
    }
}
