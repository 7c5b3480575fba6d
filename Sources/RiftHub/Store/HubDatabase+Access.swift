public import RiftProtocol
import RiftStore

extension HubDatabase: HubAccessDirectory {
    public func accessControl(network: String) throws(DirectoryError) -> StoredAccessControl {
        do {
            return try read { () throws(SQLiteError) in
                let text = try database.query("SELECT text FROM policies WHERE network = ?", [.text(network)]).first?.requiredText(0)
                var tags: [PublicKey: Set<String>] = [:]
                for row in try database.query("SELECT public_key, tags FROM peer_tags WHERE network = ?", [.text(network)]) {
                    guard let key = try? PublicKey(base64: try row.requiredText(0)) else { continue }
                    let set = Self.tagSet(try row.requiredText(1))
                    if !set.isEmpty { tags[key] = set }
                }
                return StoredAccessControl(policyText: text, tags: tags)
            }
        } catch {
            throw DirectoryError(reason: error.reason, code: error.code)
        }
    }

    public func peerTags(network: String, publicKey: PublicKey, tokenID: String) throws(DirectoryError) -> Set<String> {
        do {
            let key = SQLiteValue.text(publicKey.base64)
            if let stored = try read({ () throws(SQLiteError) in
                try database.query("SELECT tags FROM peer_tags WHERE network = ? AND public_key = ?", [.text(network), key]).first?.requiredText(0)
            }) {
                return Self.tagSet(stored)
            }
            guard let tokenTags = try read({ () throws(SQLiteError) in
                try database.query("SELECT tags FROM token_tags WHERE token_id = ?", [.text(tokenID)]).first?.requiredText(0)
            }), !tokenTags.isEmpty else { return [] }
            try write {
                _ = try database.run("INSERT INTO peer_tags (network, public_key, tags) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [.text(network), key, .text(tokenTags)])
            }
            return Self.tagSet(tokenTags)
        } catch {
            throw DirectoryError(reason: error.reason, code: error.code)
        }
    }

    /// Gives token `id` of `network` the tags its peers adopt when they first join. Fails with `unknownToken`.
    public func setTokenTags(network: String, id: String, tags: Set<String>) throws(HubStoreError) {
        try Self.checkTags(tags)
        try write {
            guard try database.query("SELECT 1 FROM tokens WHERE network = ? AND id = ?", [.text(network), .text(id)]).first != nil else {
                throw HubStoreError(.unknownToken, "no token \"\(id)\" in network \"\(network)\"")
            }
            _ = try database.run("INSERT INTO token_tags (token_id, tags) VALUES (?, ?) ON CONFLICT (token_id) DO UPDATE SET tags = excluded.tags",
                             [.text(id), .text(Self.tagText(tags))])
        }
    }

    /// The tags of every token of `network`, by token id.
    public func tokenTags(network: String) throws(HubStoreError) -> [String: Set<String>] {
        try read { () throws(SQLiteError) in
            var result: [String: Set<String>] = [:]
            for row in try database.query("SELECT t.id, g.tags FROM token_tags g JOIN tokens t ON t.id = g.token_id WHERE t.network = ?", [.text(network)]) {
                result[try row.requiredText(0)] = Self.tagSet(try row.requiredText(1))
            }
            return result
        }
    }

    /// Sets the tags of a peer of `network`; a running hub applies them within about a second. Fails with
    /// `unknownPeer`.
    public func setPeerTags(network: String, publicKey: PublicKey, tags: Set<String>) throws(HubStoreError) {
        try Self.checkTags(tags)
        try requireNetwork(network)
        try write {
            guard try database.query("SELECT 1 FROM peers WHERE network = ? AND public_key = ?", [.text(network), .text(publicKey.base64)]).first != nil else {
                throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
            }
            _ = try database.run("""
                INSERT INTO peer_tags (network, public_key, tags) VALUES (?, ?, ?)
                ON CONFLICT (network, public_key) DO UPDATE SET tags = excluded.tags
                """, [.text(network), .text(publicKey.base64), .text(Self.tagText(tags))])
        }
    }

    /// Stores `text` as the policy of `network` (nil removes it: everyone reaches everyone). The caller validated it.
    public func setPolicy(network: String, text: String?, now: Int64) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            if let text {
                _ = try database.run("""
                    INSERT INTO policies (network, text, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (network) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at
                    """, [.text(network), .text(text), .integer(now)])
            } else {
                _ = try database.run("DELETE FROM policies WHERE network = ?", [.text(network)])
            }
        }
    }

    /// The stored policy text of `network`, nil when it has none.
    public func policyText(network: String) throws(HubStoreError) -> String? {
        try requireNetwork(network)
        return try read { () throws(SQLiteError) in
            try database.query("SELECT text FROM policies WHERE network = ?", [.text(network)]).first?.requiredText(0)
        }
    }

    /// Every tag in use in `network`: on its tokens and its peers.
    public func knownTags(network: String) throws(HubStoreError) -> Set<String> {
        let peers = try accessControlOrThrow(network).tags.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        return peers.union(try tokenTags(network: network).values.reduce(into: Set<String>()) { $0.formUnion($1) })
    }

    private func accessControlOrThrow(_ network: String) throws(HubStoreError) -> StoredAccessControl {
        do { return try accessControl(network: network) } catch { throw HubStoreError(.storage, error.reason) }
    }

    static func checkTags(_ tags: Set<String>) throws(HubStoreError) {
        for tag in tags where !Names.isValidNetworkName(tag) {
            throw HubStoreError(.invalidInput, "\"\(tag)\" is not a tag (1-63 characters of a-z, 0-9 and -, not starting with -)")
        }
    }

    static func tagText(_ tags: Set<String>) -> String { tags.sorted().joined(separator: ",") }

    static func tagSet(_ text: String) -> Set<String> { Set(text.split(separator: ",").map(String.init)) }
}
