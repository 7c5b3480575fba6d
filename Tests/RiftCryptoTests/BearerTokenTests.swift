import RiftProtocol
import Testing

@testable import RiftCrypto

@Suite("BearerToken and TokenHash")
struct BearerTokenTests {
    static let base64URL = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    @Test("the token vectors hash to the expected BLAKE2b-256", arguments: Vectors.files("tokens"))
    func tokenVector(file: String) throws {
        let vector = try Vectors.load(TokenVector.self, "tokens", file)
        let token = try BearerToken(text: vector.token)
        #expect(token.revealedText == vector.token)
        #expect(token.hash.hex == vector.hashHex)
        #expect(try TokenHash(hex: vector.hashHex) == token.hash)
        #expect(try PresentedToken.hash(of: vector.token) == token.hash)
    }

    @Test("generated tokens are rgt_ and 43 base64url characters, distinct, and parse back to the same hash")
    func generatedFormat() throws {
        var seen = Set<TokenHash>()
        for _ in 0..<32 {
            let token = BearerToken.generate()
            let text = token.revealedText
            #expect(text.hasPrefix("rgt_"))
            #expect(text.utf8.count == 47)
            #expect(text.utf8.dropFirst(4).allSatisfy { Self.base64URL.contains($0) })
            let parsed = try BearerToken(text: text)
            #expect(parsed.hash == token.hash)
            #expect(parsed.revealedText == text)
            #expect(try PresentedToken.hash(of: text) == token.hash, "the hub's hash-only reading gives the same hash")
            seen.insert(token.hash)
        }
        #expect(seen.count == 32)
    }

    @Test("malformed token text is refused with invalidToken", arguments: [
        "", "rgt_", "OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8",
        "rgx_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8",     // wrong prefix
        "RGT_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8",     // prefix is case-sensitive
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o",      // 42 characters
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8A",    // 44 characters
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8=",    // padding
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8/N0amwk79uVfE5E8o8",     // standard alphabet
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o9",     // non-canonical: trailing bits set
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8\n",   // not trimmed
        " rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8",
        "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8é",      // 47 bytes, not ASCII
    ])
    func malformedTokens(text: String) {
        let error = #expect(throws: CryptoError.self) { try BearerToken(text: text) }
        #expect(error?.code == .invalidToken)
        if text.count > 8 { #expect(error?.reason.contains(text) == false, "the reason must not repeat the token") }
        let presented = #expect(throws: CryptoError.self, "the hub's hash-only reading refuses it too") { try PresentedToken.hash(of: text) }
        #expect(presented?.code == .invalidToken)
        if text.count > 8 { #expect(presented?.reason.contains(text) == false) }
    }

    @Test("description, debug description and dump never show the token")
    func descriptionRedacts() throws {
        for token in [BearerToken.generate(), try BearerToken(text: "rgt_OHnlivXyckMVPfvAGBfiIeHi8_N0amwk79uVfE5E8o8")] {
            let secret = String(token.revealedText.dropFirst(4))
            var dumped = ""
            dump(token, to: &dumped)
            for text in ["\(token)", String(describing: token), String(reflecting: token), dumped] {
                #expect(!text.contains(secret))
                #expect(!text.contains(String(secret.prefix(12))))
                #expect(!text.contains(String(secret.suffix(12))))
            }
        }
    }

    @Test("a token hash reads and writes exactly 64 lowercase hex digits")
    func hashHex() throws {
        let hash = BearerToken.generate().hash
        #expect(hash.hex.count == 64)
        #expect(try TokenHash(hex: hash.hex) == hash)
        #expect(hash.description == hash.hex)
        for bad in [hash.hex.uppercased(), String(hash.hex.dropLast()), hash.hex + "0", "", String(hash.hex.dropLast()) + "g",
                    String(repeating: "é", count: 32)] {
            let error = #expect(throws: CryptoError.self) { try TokenHash(hex: bad) }
            #expect(error?.code == .invalidToken)
        }
    }

    @Test("token hashes compare by value and work as dictionary keys")
    func hashEquality() throws {
        let first = BearerToken.generate(), second = BearerToken.generate()
        #expect(first.hash != second.hash)
        let stored: [TokenHash: String] = [first.hash: "first", second.hash: "second"]
        #expect(stored[try BearerToken(text: first.revealedText).hash] == "first")
        #expect(stored[try TokenHash(hex: second.hash.hex)] == "second")
        // Hashes that differ only in the last byte are different.
        var bytes = first.hash.bytes
        bytes[31] ^= 1
        #expect(try TokenHash(bytes: bytes) != first.hash)
        #expect(try TokenHash(bytes: first.hash.bytes) == first.hash)
        #expect(throws: CryptoError.self) { try TokenHash(bytes: Array(bytes.dropLast())) }
    }
}

extension TokenHash {
    /// Lowercase hex of any bytes, for comparing with the `_hex` fields of vectors.
    static func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
