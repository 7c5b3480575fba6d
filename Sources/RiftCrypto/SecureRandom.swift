/// Random numbers from the operating system's CSPRNG (libsodium's `randombytes`), for nonces, identifiers
/// and jitter. Neither function can fail.
public enum SecureRandom {
    /// `count` random bytes (`randombytes_buf`); empty when `count` is zero or negative.
    public static func bytes(_ count: Int) -> [UInt8] { Sodium.randomBytes(count) }

    /// A uniformly distributed number in `0..<upperBound` without modulo bias (`randombytes_uniform`);
    /// 0 when `upperBound` is 0 or 1.
    public static func uniform(_ upperBound: UInt32) -> UInt32 { Sodium.randomUniform(upperBound) }
}
