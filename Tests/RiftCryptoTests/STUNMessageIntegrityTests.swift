import Testing
@testable import RiftCrypto

@Suite("STUN long-term credential key and MESSAGE-INTEGRITY")
struct STUNMessageIntegrityTests {
    @Test("MD5 matches RFC 1321's test suite")
    func md5() throws {
        #expect(try MD5Digest.digest([]).hex == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(try MD5Digest.digest(Array("abc".utf8)).hex == "900150983cd24fb0d6963f7d28e17f72")
    }

    @Test("the long-term key is MD5(username:realm:password)")
    func longTermKey() throws {
        // RFC 5389 §15.4's own example: user "user", realm "realm", password "pass".
        let key = try STUNMessageIntegrity.longTermKey(username: "user", realm: "realm", password: "pass")
        #expect(key.hex == "8493fbc53ba582fb4c044c456bdc40eb")
        #expect(try STUNMessageIntegrity.longTermKey(username: "user", realm: "realm", password: "pasS") != key)
    }
}

extension Array where Element == UInt8 {
    fileprivate var hex: String { map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}
