import RiftProtocol

/// The JSON text of the peer objects the hub sent lately, one per key, so that the welcomes and `peer_joined`
/// messages of a network do not each encode the same peers again (a join lists every peer already there).
///
/// An entry is used only for a peer description equal to the one it was made from, so any change to the peer — a
/// rename, new routes, an exit-node or access-policy change (`allow_in`), a new address after a revocation and a
/// new admission — makes a new text; nothing has to be invalidated by hand. The cache is bounded: it starts over
/// when it holds `capacity` entries, so it costs no memory per connected agent.
public struct PeerObjectTexts: Sendable {
    private var entries: [PublicKey: (peer: PeerInfo, text: String)] = [:]
    /// How many peers the cache holds before it starts over.
    public let capacity: Int

    /// An empty cache of at most `capacity` entries.
    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// How many texts the cache holds.
    public var count: Int { entries.count }

    /// `JSONWriter.string(peer.json)`, from the cache when it holds the text of this same description.
    public mutating func text(of peer: PeerInfo) -> String {
        if let entry = entries[peer.publicKey], entry.peer == peer { return entry.text }
        let text = JSONWriter.string(peer.json)
        if entries.count >= capacity, entries[peer.publicKey] == nil { entries.removeAll(keepingCapacity: true) }
        entries[peer.publicKey] = (peer, text)
        return text
    }

    /// The frame text of `message`, the same as `message.encoded()`, with its peer objects from the cache.
    public mutating func encode(_ message: HubMessage) -> String {
        message.encoded { text(of: $0) }  // any other message is `encoded()` as it is
    }
}
