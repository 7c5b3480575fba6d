import RiftProtocol
import Testing

@testable import RiftCrypto

@Suite("PrivateKey")
struct PrivateKeyTests {
    @Test("the key vectors give the public key `wg pubkey` printed", arguments: Vectors.files("keys"))
    func keyVectors(file: String) throws {
        let vector = try Vectors.load(KeyVector.self, "keys", file)
        let key = try PrivateKey(base64: vector.privateKey)
        #expect(key.publicKey.base64 == vector.publicKey)
        #expect(key.base64 == vector.privateKey, "a key is kept as given, not clamped")
    }

    @Test("generated keys are random and clamped like `wg genkey`")
    func generatedKeysAreClamped() throws {
        var seen = Set<String>()
        for _ in 0..<16 {
            let key = PrivateKey.generate()
            let bytes = try #require(Base64.decode(key.base64))
            #expect(bytes.count == 32)
            #expect(bytes[0] & 0b111 == 0)
            #expect(bytes[31] & 0x80 == 0)
            #expect(bytes[31] & 0x40 != 0)
            #expect(try PrivateKey(base64: key.base64).publicKey == key.publicKey)
            seen.insert(key.base64)
        }
        #expect(seen.count == 16)
    }

    @Test("one trailing line ending, as in a key file, is ignored")
    func trailingNewline() throws {
        let key = PrivateKey.generate()
        #expect(try PrivateKey(base64: key.base64 + "\n").publicKey == key.publicKey)
        #expect(try PrivateKey(base64: key.base64 + "\r\n").publicKey == key.publicKey)
    }

    @Test("malformed key text is refused with invalidKey", arguments: [
        "", "\n", "AAAA",
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=\n\n",       // two line endings
        " 4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=",          // leading space
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg= ",          // trailing space
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg",            // padding missing
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXh=",           // non-canonical: trailing bits set
        "4C_sENmm-YYJ0O6aI6Flnh6qLYEgHF_9jUkx5XmMnXg=",           // URL-safe alphabet
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXgA",           // 33 bytes
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=AAAA",       // trailing data
        "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5Xm\u{0}nXg=",       // NUL inside
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",           // all zero: WireGuard's "no key"
    ])
    func malformedKeys(text: String) {
        let error = #expect(throws: CryptoError.self) { try PrivateKey(base64: text) }
        #expect(error?.code == .invalidKey)
        if text.count > 8 { #expect(error?.reason.contains(text) == false, "the reason must not repeat the key") }
    }

    @Test("description, debug description and dump never show the secret")
    func descriptionRedacts() throws {
        for key in [PrivateKey.generate(), try PrivateKey(base64: "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=")] {
            let secret = key.base64
            var dumped = ""
            dump(key, to: &dumped)
            for text in ["\(key)", String(describing: key), String(reflecting: key), dumped] {
                #expect(!text.contains(secret))
                #expect(!text.contains(String(secret.prefix(12))))
            }
            #expect(key.description.contains(key.publicKey.base64))
        }
    }

    @Test("the public key of any key equals what `wg pubkey` prints",
          .enabled(if: WireGuardTool.path != nil, WireGuardTool.missingReason))
    func wgPubkeyInterop() throws {
        // Ours from wg's key, and wg's from ours, including an unclamped key (wg clamps before multiplying).
        let fromWG = try PrivateKey(base64: try WireGuardTool.run(["genkey"], input: ""))
        let unclamped = try PrivateKey(base64: "7zw9bJLBZXatWc5NA+RAzKP5hBhsmsQcNHbUrbSdqoo=")
        for key in [fromWG, unclamped, PrivateKey.generate(), PrivateKey.generate()] {
            #expect(try WireGuardTool.run(["pubkey"], input: key.base64 + "\n") == key.publicKey.base64)
        }
    }

    @Test("secret bytes live in libsodium's guarded memory and are shared by copies, not duplicated")
    func secretIsShared() {
        let key = PrivateKey.generate()
        let copy = key
        #expect(key.secret === copy.secret)
        #expect(key.secret.count == 32)
    }
}
