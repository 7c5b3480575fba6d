extension HubMessage {
    /// The frame text of this message, byte for byte `encoded()`, except that every peer object of a `welcome` (its
    /// `self` and its `peers`) or of a `peer_joined` is the text `peerText` returns for it, which must be
    /// `JSONWriter.string(peer.json)`. The hub passes texts it keeps per peer, so a join does not encode again the
    /// peers that every other welcome and announcement of its network already carried.
    public func encoded(peerText: (PeerInfo) -> String) -> String {
        switch self {
        case .welcome(let welcome):
            // The keys in JSONWriter's sorted order; `dns_domain` is absent when nil.
            var out = "{"
            if let domain = welcome.dnsDomain { out += #""dns_domain":"# + JSONWriter.string(.string(domain)) + "," }
            out += #""heartbeat_seconds":"# + String(welcome.heartbeatSeconds)
            out += #","ice":"# + JSONWriter.string(welcome.ice.json)
            out += #","ipv4_prefix":"# + JSONWriter.string(.string(welcome.ipv4Prefix.description))
            out += #","ipv6_prefix":"# + JSONWriter.string(.string(welcome.ipv6Prefix.description))
            out += #","network":"# + JSONWriter.string(.string(welcome.network))
            out += #","peers":["#
            for (position, peer) in welcome.peers.enumerated() {
                if position > 0 { out += "," }
                out += peerText(peer)
            }
            out += #"],"self":"# + peerText(welcome.me)
            out += #","type":"welcome","version":"# + String(welcome.version) + "}"
            return out
        case .peerJoined(let peer):
            return #"{"peer":"# + peerText(peer) + #","type":"peer_joined"}"#
        default:
            return encoded()
        }
    }
}
