internal import CRiftSodium

/// libsodium's one-time set-up and the small primitives the rest of the module is built on.
///
/// Every libsodium call outside the key, box and codec files goes through one of these functions; each
/// names the C function it wraps.
enum Sodium {
    /// The result of `sodium_init()`: 0 on first success, 1 when already done, -1 when no secure random
    /// source could be opened. A `static let` runs it exactly once, thread-safely.
    private static let initResult: Int32 = sodium_init()

    /// Initialises libsodium on first use. Stops the process when that fails, because then there is no
    /// secure random source and no key, nonce or token could be made safely.
    static func ensureInitialized() {
        precondition(initResult >= 0, "sodium_init() failed (status \(initResult)): no secure random source")
    }

    /// `randombytes_buf`: `count` bytes from the operating system's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            randombytes_buf(buffer.baseAddress!, count)
            initialized = count
        }
    }

    /// `randombytes_uniform`: uniform in `0..<upperBound` without modulo bias; 0 when `upperBound` < 2.
    static func randomUniform(_ upperBound: UInt32) -> UInt32 {
        ensureInitialized()
        return randombytes_uniform(upperBound)
    }

    /// `sodium_memcmp`: whether two byte strings are equal, in time that depends only on their length.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in sodium_memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
        }
    }

    /// `sodium_memzero`: overwrites `bytes` with zeros in a way the compiler may not remove.
    static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            sodium_memzero(base, buffer.count)
        }
    }

    /// `crypto_generichash` (BLAKE2b) without a key, 32-byte digest, over the concatenation of `parts`.
    ///
    /// Streaming over the parts avoids concatenating a secret into a temporary buffer first.
    static func genericHash(_ parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        ensureInitialized()
        // libsodium declares the state 64-byte aligned; Swift does not promise that for a local, so allocate it.
        let stateBytes = crypto_generichash_statebytes()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: stateBytes, alignment: 64)
        let state = OpaquePointer(raw)
        defer {
            sodium_memzero(raw, stateBytes)
            raw.deallocate()
        }
        let digestBytes = Int(crypto_generichash_BYTES)
        // With a valid digest length and no key these calls cannot fail; libsodium returns 0.
        _ = crypto_generichash_init(state, nil, 0, digestBytes)
        for part in parts where part.count > 0 {
            _ = crypto_generichash_update(state, part.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(part.count))
        }
        return [UInt8](unsafeUninitializedCapacity: digestBytes) { buffer, initialized in
            _ = crypto_generichash_final(state, buffer.baseAddress!, digestBytes)
            initialized = digestBytes
        }
    }
}
