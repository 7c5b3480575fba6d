internal import CRiftSodium

/// Secret bytes (a private key, a token) in memory that libsodium allocates for secrets.
///
/// `sodium_malloc` places the bytes between guard pages and locks them out of swap where the system allows
/// it; `sodium_free` zeroes them before returning the memory. One instance owns one allocation: `init`
/// acquires it, `deinit` releases it. Values that hold a `SecretBytes` share it instead of copying the secret.
///
/// `@unchecked Sendable`: the bytes are written only inside `init`, before the instance is shared, and only
/// read afterwards, so concurrent readers never race.
final class SecretBytes: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    /// The number of secret bytes.
    let count: Int

    /// Allocates `count` bytes with `sodium_malloc` and lets `initialize` fill them. When `initialize` throws,
    /// the memory is zeroed and freed and the error rethrown. Stops the process when the allocation fails
    /// (out of memory), as any Swift allocation would.
    init<Failure: Error>(
        count: Int, initializingWith initialize: (UnsafeMutableRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        precondition(count > 0, "a secret has at least one byte")
        Sodium.ensureInitialized()
        guard let base = sodium_malloc(count) else { fatalError("sodium_malloc(\(count)) failed: out of memory") }
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: base, count: count))
        } catch {
            sodium_free(base)
            throw error
        }
        self.base = base
        self.count = count
    }

    /// `count` bytes from the operating system's CSPRNG (`randombytes_buf`).
    convenience init(randomCount count: Int) {
        self.init(count: count) { buffer in randombytes_buf(buffer.baseAddress!, buffer.count) }
    }

    deinit { sodium_free(base) }

    /// Lends the secret bytes to `body`, which must not let the pointer escape.
    func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Whether every byte is zero (`sodium_is_zero`, constant time).
    var isAllZero: Bool { sodium_is_zero(base.assumingMemoryBound(to: UInt8.self), count) == 1 }
}
