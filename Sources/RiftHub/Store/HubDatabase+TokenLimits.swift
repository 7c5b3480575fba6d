public import RiftProtocol
import RiftStore

/// What a token may admit beyond its network: how many distinct keys (a single-use or per-device token admits one),
/// and whether the peers it admits are ephemeral (removed from the network once they have been gone for a while).
public struct TokenLimits: Sendable, Hashable {
    /// The most distinct keys the token admits; nil for any number (the default).
    public var maximumKeys: Int?
    /// Whether peers the token admits for the first time are removed after they leave.
    public var ephemeral: Bool

    /// A token without limits: any number of keys, permanent peers.
    public static let none = TokenLimits(maximumKeys: nil, ephemeral: false)

    /// Creates token limits.
    public init(maximumKeys: Int?, ephemeral: Bool) {
        self.maximumKeys = maximumKeys
        self.ephemeral = ephemeral
    }

    /// Whether the token is an ordinary reusable token with permanent peers.
    public var isUnlimited: Bool { maximumKeys == nil && !ephemeral }
}

extension HubDatabase {
    /// The most keys one token may be limited to (`token create --max-keys`).
    public static let maximumKeysLimit = 100_000

    /// Fails with `invalidInput` for a key limit out of range.
    static func checkTokenLimits(_ limits: TokenLimits) throws(HubStoreError) {
        if let maximum = limits.maximumKeys, !(1...maximumKeysLimit).contains(maximum) {
            throw HubStoreError(.invalidInput, "--max-keys takes 1 to \(maximumKeysLimit)")
        }
    }

    /// Inside `createToken`'s transaction: stores the limits of token `id`, so a limited token never exists without
    /// them (a crash between two transactions would have left a single-use token unlimited).
    func insertTokenLimits(id: String, _ limits: TokenLimits) throws(SQLiteError) {
        guard !limits.isUnlimited else { return }
        try database.run("INSERT INTO token_limits (token_id, max_keys, ephemeral) VALUES (?, ?, ?)",
                         [.text(id), .integer(limits.maximumKeys.map(Int64.init)), .integer(limits.ephemeral ? 1 : 0)])
    }

    /// The limits and admitted-key counts of the tokens of `network`, by token id; unlimited tokens are absent.
    func tokenLimits(network: String) throws(HubStoreError) -> [String: (limits: TokenLimits, keysAdmitted: Int)] {
        try read { () throws(SQLiteError) in
            var result: [String: (limits: TokenLimits, keysAdmitted: Int)] = [:]
            for row in try database.query("""
                SELECT l.token_id, l.max_keys, l.ephemeral, (SELECT COUNT(*) FROM token_keys k WHERE k.token_id = l.token_id)
                FROM token_limits l JOIN tokens t ON t.id = l.token_id WHERE t.network = ?
                """, [.text(network)]) {
                let limits = TokenLimits(maximumKeys: row.integer(1).map(Int.init), ephemeral: row.integer(2) == 1)
                result[try row.requiredText(0)] = (limits, Int(try row.requiredInteger(3)))
            }
            return result
        }
    }

    /// Inside the admission transaction: whether token `tokenID` may admit `key`. A limited token records each key it
    /// admits, so the same key may come back any number of times; a new key beyond the limit is refused. Returns the
    /// token's limits, or the refusal.
    func applyTokenLimits(tokenID: String, key: SQLiteValue, now: Int64) throws(SQLiteError) -> Result<TokenLimits, TokenExhausted> {
        guard let row = try database.query("SELECT max_keys, ephemeral FROM token_limits WHERE token_id = ?", [.text(tokenID)]).first else {
            return .success(.none)
        }
        let limits = TokenLimits(maximumKeys: row.integer(0).map(Int.init), ephemeral: row.integer(1) == 1)
        guard let maximum = limits.maximumKeys else { return .success(limits) }
        if try database.query("SELECT 1 FROM token_keys WHERE token_id = ? AND public_key = ?", [.text(tokenID), key]).first != nil {
            return .success(limits)
        }
        let used = try database.query("SELECT COUNT(*) FROM token_keys WHERE token_id = ?", [.text(tokenID)]).first?.integer(0) ?? 0
        guard used < Int64(maximum) else { return .failure(TokenExhausted(maximumKeys: maximum)) }
        try database.run("INSERT INTO token_keys (token_id, public_key, admitted_at) VALUES (?, ?, ?)", [.text(tokenID), key, .integer(now)])
        return .success(limits)
    }

    /// Removes the ephemeral peers last seen before `cutoff` for which `isConnected` is false, in one transaction, and
    /// returns them. Their addresses become free for new peers; their tags go with them.
    func deleteStaleEphemeralPeers(lastSeenBefore cutoff: Int64,
                                   unlessConnected isConnected: (PeerAddress) -> Bool) throws(HubStoreError) -> [PeerAddress] {
        try write { () throws -> [PeerAddress] in
            var removed: [PeerAddress] = []
            for row in try database.query("""
                SELECT e.network, e.public_key FROM ephemeral_peers e
                JOIN peers p ON p.network = e.network AND p.public_key = e.public_key
                WHERE p.last_seen_at < ? AND p.revoked_at IS NULL
                """, [.integer(cutoff)]) {
                guard let key = try? PublicKey(base64: try row.requiredText(1)) else { continue }
                let peer = PeerAddress(network: try row.requiredText(0), publicKey: key)
                guard !isConnected(peer) else { continue }
                try database.run("DELETE FROM peers WHERE network = ? AND public_key = ?", [.text(peer.network), .text(key.base64)])
                removed.append(peer)
            }
            return removed
        }
    }
}

/// A limited token that already admitted as many keys as it may.
struct TokenExhausted: Error {
    /// The token's key limit.
    var maximumKeys: Int
}
