/// The stored form of a bearer token: the BLAKE2b-256 hash of its text (`crypto_generichash`, no key).
///
/// Tokens carry 256 random bits, so an unkeyed hash is enough to make a leaked database useless for
/// authenticating. Equality is constant-time (`sodium_memcmp`), so comparing a presented token's hash with
/// a stored one reveals nothing through timing.
public struct TokenHash: Sendable, Hashable, CustomStringConvertible {
    /// The digest length in bytes.
    public static let byteCount = 32
    private static let digits = Array("0123456789abcdef".utf8)

    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps a digest computed here; always 32 bytes.
    init(digest: [UInt8]) {
        precondition(digest.count == Self.byteCount)
        bytes = digest
    }

    /// Wraps 32 stored digest bytes (for a database that keeps them as a blob); fails with `invalidToken` for
    /// any other length.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw CryptoError(.invalidToken, "a token hash is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Reads the stored form: exactly 64 lowercase hexadecimal digits. Fails with `invalidToken` otherwise.
    public init(hex: String) throws(CryptoError) {
        let characters = Array(hex.utf8)
        guard characters.count == 2 * Self.byteCount else {
            throw CryptoError(.invalidToken, "a token hash is \(2 * Self.byteCount) hex digits, not \(characters.count) bytes")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        var index = 0
        while index < characters.count {
            guard let high = Self.digits.firstIndex(of: characters[index]),
                  let low = Self.digits.firstIndex(of: characters[index + 1])
            else { throw CryptoError(.invalidToken, "a token hash is lowercase hexadecimal (0-9, a-f)") }
            bytes.append(UInt8(high << 4 | low))
            index += 2
        }
        self.bytes = bytes
    }

    /// The stored form: 64 lowercase hexadecimal digits.
    public var hex: String {
        String(decoding: bytes.flatMap { [Self.digits[Int($0 >> 4)], Self.digits[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    public var description: String { hex }

    /// Constant-time comparison (`sodium_memcmp`).
    public static func == (lhs: TokenHash, rhs: TokenHash) -> Bool { Sodium.constantTimeEqual(lhs.bytes, rhs.bytes) }

    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
