import RiftProtocol

extension HubAdministration {
    /// `peer rename`: gives a peer (by key, key prefix or name) a new display name, checked as the hub checks
    /// `hello.name`, and a DNS name: `dnsName` when given (refused when invalid or taken, never numbered), else the
    /// label derived from the name, numbered when another peer holds it, which the text then says. The name sticks: the
    /// peer's agent no longer replaces it with its own. A running hub tells the other peers within about a second.
    public func renamePeer(network: String, peer: String, name: String, dnsName: String? = nil) throws(HubStoreError) -> String {
        let record = try resolvePeer(network: network, peer)
        let renaming = try database.renamePeer(network: network, publicKey: record.info.publicKey, name: name, dnsName: dnsName)
        let domain = try database.networkSettings(named: network)?.dnsDomain ?? network
        let label = renaming.after.dnsName ?? "-"
        var lines = ["Renamed peer \(HubDatabase.keyPrefix(renaming.before.publicKey)) of network \(network) from \(HubDatabase.quoted(renaming.before.name)) to \(HubDatabase.quoted(name))."]
        if let taken = renaming.takenLabel, let holder = renaming.takenBy {
            let kept = label == renaming.before.dnsName ? "kept" : "assigned"
            lines.append("DNS name: \(label).\(domain) (\(taken) is taken by \(HubDatabase.describe(holder)); \(kept) \(label)).")
        } else {
            lines.append("DNS name: \(label).\(domain)\(label == renaming.before.dnsName ? " (unchanged)" : "").")
        }
        lines.append("The name is now set by the administrator: the peer's agent no longer replaces it with its own. A running hub tells the other peers within about a second.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The peer `text` names in `network`: its public key, its display name (the peer that is not revoked when a
    /// revoked one has the same name) or, failing both, a unique prefix of its key of at least 6 characters (as
    /// `peer rename` prints them, a trailing `…` allowed).
    func resolvePeer(network: String, _ text: String) throws(HubStoreError) -> PeerRecord {
        let peers = try database.peers(network: network)
        if let key = try? PublicKey(base64: text), let record = peers.first(where: { $0.info.publicKey == key }) { return record }
        var named = peers.filter { $0.info.name == text }
        if named.count > 1 { named = named.filter { $0.revokedAt == nil } }
        if named.count == 1 { return named[0] }
        guard named.isEmpty else {
            throw HubStoreError(.invalidInput, "\(named.count) peers are named \(HubDatabase.quoted(text)) in network \"\(network)\"; give its public key")
        }
        let prefix = text.hasSuffix("…") ? String(text.dropLast()) : text
        let keyed = prefix.count >= 6 ? peers.filter { $0.info.publicKey.base64.hasPrefix(prefix) } : []
        guard keyed.count == 1 else {
            throw HubStoreError(keyed.isEmpty ? .unknownPeer : .invalidInput,
                                keyed.isEmpty ? "no peer named or keyed \(HubDatabase.quoted(text)) in network \"\(network)\""
                                    : "\(keyed.count) peers' keys start with \(HubDatabase.quoted(prefix)) in network \"\(network)\"; give more of the key")
        }
        return keyed[0]
    }
}
