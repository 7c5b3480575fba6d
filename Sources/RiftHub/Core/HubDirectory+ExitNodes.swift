public import RiftProtocol

/// Exit-node storage (PROTOCOL.md §6.15). Directories that do not conform store no exit nodes: no peer is then an
/// active exit node, whatever it advertises.
public protocol HubExitNodeDirectory {
    /// Records whether `publicKey` advertises an exit node in `network` now (a write only when it changed) and
    /// returns whether it is an active exit node: advertised and approved by an administrator.
    func advertiseExitNode(network: String, publicKey: PublicKey, advertised: Bool) throws(DirectoryError) -> Bool

    /// The active exit nodes of `network`.
    func activeExitNodes(network: String) throws(DirectoryError) -> Set<PublicKey>
}

extension HubDirectory {
    /// Records a joining peer's exit-node advertisement and returns whether it is active; false when this directory
    /// stores no exit nodes.
    func joiningPeerIsExitNode(network: String, publicKey: PublicKey, advertised: Bool) throws(DirectoryError) -> Bool {
        guard let exitNodes = self as? any HubExitNodeDirectory else { return false }
        return try exitNodes.advertiseExitNode(network: network, publicKey: publicKey, advertised: advertised)
    }

    /// The active exit nodes of `network`; nil when this directory stores no exit nodes.
    func storedActiveExitNodes(network: String) throws(DirectoryError) -> Set<PublicKey>? {
        guard let exitNodes = self as? any HubExitNodeDirectory else { return nil }
        return try exitNodes.activeExitNodes(network: network)
    }
}
