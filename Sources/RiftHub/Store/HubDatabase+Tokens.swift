public import RiftCrypto
import RiftStore

/// A token as the admin CLI lists it: never its value, which is not stored.
public struct TokenRecord: Sendable, Hashable {
    /// The short public id used to revoke it.
    public var id: String
    /// The network it admits to.
    public var network: String
    /// A note saying whose it is ("laptop").
    public var label: String
    /// When it was created (Unix seconds).
    public var createdAt: Int64
    /// When it stops working, if ever.
    public var expiresAt: Int64?
    /// When it was revoked, if it was.
    public var revokedAt: Int64?
    /// When a connection last authenticated with it.
    public var lastUsedAt: Int64?
}

extension HubDatabase {
    /// Creates a token for `network` and returns its id and the token itself, which is not stored (only
    /// its hash is) and so must be shown to the user now or never.
    ///
    /// `limits` make it a per-device or ephemeral token, stored in the same transaction.
    ///
    /// Fails with `unknownNetwork`, or `invalidInput` for an empty or unprintable label or a key limit out of range.
    public func createToken(network: String, label: String, expiresAt: Int64?, limits: TokenLimits = .none, now: Int64)
        throws(HubStoreError) -> (id: String, token: BearerToken) {
        guard !label.isEmpty, label.unicodeScalars.count <= 64, label.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw HubStoreError(.invalidInput, "a token label is 1-64 printable characters")
        }
        if let expiresAt, expiresAt <= now { throw HubStoreError(.invalidInput, "the expiry lies in the past") }
        try Self.checkTokenLimits(limits)
        let token = BearerToken.generate()
        let id = Self.newTokenID()
        try write {
            guard try database.query("SELECT 1 FROM networks WHERE name = ?", [.text(network)]).first != nil else {
                throw HubStoreError(.unknownNetwork, "no network named \"\(network)\"")
            }
            try database.run(
                "INSERT INTO tokens (id, network, label, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(id), .text(network), .text(label), .text(token.hash.hex), .integer(now), .integer(expiresAt)])
            try insertTokenLimits(id: id, limits)
        }
        return (id, token)
    }

    /// The tokens of `network`, oldest first. Fails with `unknownNetwork`.
    public func tokens(network: String) throws(HubStoreError) -> [TokenRecord] {
        try requireNetwork(network)
        return try read { () throws(SQLiteError) in
            try database.query("""
                SELECT id, network, label, created_at, expires_at, revoked_at, last_used_at
                FROM tokens WHERE network = ? ORDER BY created_at, id
                """, [.text(network)]).map { row throws(SQLiteError) in
                TokenRecord(id: try row.requiredText(0), network: try row.requiredText(1), label: try row.requiredText(2),
                            createdAt: try row.requiredInteger(3), expiresAt: row.integer(4), revokedAt: row.integer(5),
                            lastUsedAt: row.integer(6))
            }
        }
    }

    /// Revokes token `id` of `network`; a running hub closes its sessions within about a second.
    /// Revoking a revoked token changes nothing. Fails with `unknownNetwork` or `unknownToken`.
    public func revokeToken(network: String, id: String, now: Int64) throws(HubStoreError) {
        try requireNetwork(network)
        try write {
            guard try database.query("SELECT 1 FROM tokens WHERE network = ? AND id = ?", [.text(network), .text(id)]).first != nil else {
                throw HubStoreError(.unknownToken, "no token \"\(id)\" in network \"\(network)\"")
            }
            try database.run("UPDATE tokens SET revoked_at = ? WHERE network = ? AND id = ? AND revoked_at IS NULL",
                             [.integer(now), .text(network), .text(id)])
        }
    }

    /// The live token with this hash, compared in constant time after the indexed lookup.
    func liveTokenGrant(hash: TokenHash, now: Int64) throws(HubStoreError) -> TokenGrant? {
        try read { () throws(SQLiteError) in
            let rows = try database.query("""
                SELECT id, network, hash FROM tokens
                WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                """, [.text(hash.hex), .integer(now)])
            for row in rows {
                guard let stored = try? TokenHash(hex: try row.requiredText(2)), stored == hash else { continue }
                return TokenGrant(id: try row.requiredText(0), network: try row.requiredText(1))
            }
            return nil
        }
    }

    /// A short random public id: 10 characters of lowercase base32.
    static func newTokenID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return String(SecureRandom.bytes(10).map { alphabet[Int($0 & 31)] })
    }
}
