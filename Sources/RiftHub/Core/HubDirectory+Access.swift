public import RiftProtocol

/// What the directory stores about a network's access control: the policy text as the admin set it (already
/// validated) and the tags of its peers.
public struct StoredAccessControl: Sendable, Hashable {
    /// The policy text; nil when the network has no policy (everyone reaches everyone).
    public var policyText: String?
    /// Each peer's tags; peers without tags may be absent.
    public var tags: [PublicKey: Set<String>]

    /// Creates stored access control.
    public init(policyText: String?, tags: [PublicKey: Set<String>]) {
        self.policyText = policyText
        self.tags = tags
    }
}

/// Access policy storage. The defaults describe a directory without policies, so directories that store none keep
/// every network open.
public protocol HubAccessDirectory {
    /// The policy and peer tags of `network`. Fails with `DirectoryError`; the router then keeps what it had.
    func accessControl(network: String) throws(DirectoryError) -> StoredAccessControl

    /// The tags of `publicKey` in `network`. A peer seen for the first time adopts the tags of the token that admitted
    /// it, `tokenID` (a write only when that token has tags); later the admin may change them.
    func peerTags(network: String, publicKey: PublicKey, tokenID: String) throws(DirectoryError) -> Set<String>
}

extension HubDirectory {
    /// The access control of `network`, or an open network when this directory stores no policies.
    func storedAccessControl(network: String) throws(DirectoryError) -> StoredAccessControl {
        guard let access = self as? any HubAccessDirectory else { return StoredAccessControl(policyText: nil, tags: [:]) }
        return try access.accessControl(network: network)
    }

    /// The tags of a joining peer, empty when this directory stores no policies.
    func joiningPeerTags(network: String, publicKey: PublicKey, tokenID: String) throws(DirectoryError) -> Set<String> {
        guard let access = self as? any HubAccessDirectory else { return [] }
        return try access.peerTags(network: network, publicKey: publicKey, tokenID: tokenID)
    }
}
