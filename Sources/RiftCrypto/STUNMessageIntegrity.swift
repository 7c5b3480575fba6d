/// STUN's MESSAGE-INTEGRITY with long-term credentials (RFC 5389 §15.4), which a TURN client needs to allocate:
/// key = MD5(username ":" realm ":" password), integrity = HMAC-SHA1(key, message).
///
/// Usernames, realms and passwords are used as given: riftgate's are ASCII (TURN REST user names, base64
/// passwords), for which SASLprep changes nothing.
public enum STUNMessageIntegrity {
    /// The long-term credential key. Fails only when OpenSSL cannot compute MD5 (out of memory, or a FIPS
    /// configuration without MD5).
    public static func longTermKey(username: String, realm: String, password: String) throws(CryptoError) -> [UInt8] {
        var input = Array("\(username):\(realm):\(password)".utf8)
        defer { Sodium.zero(&input) }
        return try MD5Digest.digest(input)
    }

    /// The 20-byte HMAC-SHA1 of `message` under `key`. Fails only when OpenSSL cannot compute it.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) throws(CryptoError) -> [UInt8] {
        try HMACSHA1.authenticate(message, key: key)
    }
}
