import RiftProtocol

/// TURN REST credentials ("TURN REST API", draft-uberti-behave-turn-rest-00) as coturn accepts them with
/// `use-auth-secret` and `static-auth-secret=<secret>`: the hub hands them out, coturn checks them with the
/// shared secret, and they stop working at `expiresAt`.
public enum TURNCredentials {
    /// The credentials for `name` that expire at `expiresAt` (Unix seconds):
    /// username = `"<expiresAt>:<name>"`, credential = base64(HMAC-SHA1(key: secret, message: username)).
    ///
    /// Cannot fail in practice: OpenSSL's HMAC-SHA1 fails only when the process is out of memory or libcrypto's
    /// configuration forbids SHA-1, and then the process stops with OpenSSL's error code rather than hand
    /// out credentials that coturn would reject.
    public static func make(secret: String, name: String, expiresAt: Int64) -> (username: String, credential: String) {
        let username = "\(expiresAt):\(name)"
        var key = Array(secret.utf8)
        defer { Sodium.zero(&key) }
        do {
            let digest = try HMACSHA1.authenticate(Array(username.utf8), key: key)
            return (username, Base64.encode(digest))
        } catch {
            fatalError("cannot make TURN credentials: \(error)")
        }
    }
}
