import Testing

@testable import RiftCrypto

@Suite("TURNCredentials")
struct TURNCredentialsTests {
    @Test("the TURN vectors (checked against Python's hmac) are reproduced", arguments: Vectors.files("turn"))
    func turnVector(file: String) throws {
        let vector = try Vectors.load(TURNVector.self, "turn", file)
        let made = TURNCredentials.make(secret: vector.secret, name: vector.name, expiresAt: vector.expiresAt)
        #expect(made.username == vector.username)
        #expect(made.credential == vector.credential)
    }

    @Test("there are TURN vectors to check")
    func coverage() { #expect(Vectors.files("turn").count >= 2) }

    @Test("the credential depends on the secret, the name and the expiry")
    func inputsMatter() {
        let base = TURNCredentials.make(secret: "s1", name: "peer", expiresAt: 100)
        #expect(base.username == "100:peer")
        #expect(base.credential.count == 28, "20 bytes of SHA-1 in padded base64")
        #expect(TURNCredentials.make(secret: "s2", name: "peer", expiresAt: 100).credential != base.credential)
        #expect(TURNCredentials.make(secret: "s1", name: "peer2", expiresAt: 100).credential != base.credential)
        #expect(TURNCredentials.make(secret: "s1", name: "peer", expiresAt: 101).credential != base.credential)
    }

    @Test("an empty secret still gives RFC 2104 HMAC-SHA1 (checked with Python's hmac)")
    func emptySecret() throws {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"",b"0:a",hashlib.sha1).digest()).decode())'
        #expect(TURNCredentials.make(secret: "", name: "a", expiresAt: 0).credential == Self.emptySecretCredential)
        #expect(try HMACSHA1.authenticate(Array("0:a".utf8), key: []).count == 20)
    }

    static let emptySecretCredential = "FX+seAXCMOTsGh1GSs7U79kpGPs="
}
