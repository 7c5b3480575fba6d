import Testing

@testable import RiftCrypto

@Suite("SecureRandom and CryptoError")
struct SecureRandomTests {
    @Test("bytes returns the requested count of fresh random bytes")
    func bytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(-1).isEmpty)
        let first = SecureRandom.bytes(32), second = SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(Set(SecureRandom.bytes(4096)).count > 200, "4096 random bytes take almost all 256 values")
    }

    @Test("uniform stays below its bound and reaches every value")
    func uniform() {
        #expect(SecureRandom.uniform(0) == 0)
        #expect(SecureRandom.uniform(1) == 0)
        var seen = Set<UInt32>()
        for _ in 0..<600 {
            let value = SecureRandom.uniform(6)
            #expect(value < 6)
            seen.insert(value)
        }
        #expect(seen == [0, 1, 2, 3, 4, 5])
    }

    @Test("an error names its stable code, its reason and the C status")
    func errorDescription() {
        #expect(CryptoError(.openFailed, "bad box").description == "open_failed: bad box")
        #expect(CryptoError(.sealFailed, "refused", status: -1).description == "seal_failed: refused (C status -1)")
        #expect(CryptoError.Code.allCases.map(\.rawValue) ==
                ["invalid_key", "invalid_token", "seal_failed", "open_failed", "mismatch", "malformed_payload"])
    }
}
