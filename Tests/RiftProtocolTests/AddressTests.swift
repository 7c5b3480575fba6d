import RiftProtocol
import Testing

@Suite("Addresses, prefixes, base64, JSON")
struct AddressTests {
    @Test("IPv4 parsing is strict", arguments: ["1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "a.b.c.d", "1..2.3", ""])
    func badIPv4(_ text: String) { #expect(IPv4Address(text) == nil) }

    @Test("IPv6 text is canonical on output")
    func ipv6Canonical() throws {
        let cases = ["FD7A:115C:A1E0:0:0:0:0:1": "fd7a:115c:a1e0::1", "0:0:0:0:0:0:0:0": "::", "1:0:0:2:0:0:0:3": "1:0:0:2::3",
                     "2001:db8:0:1:1:1:1:1": "2001:db8:0:1:1:1:1:1", "::ffff": "::ffff"]
        for (input, output) in cases { #expect(try #require(IPv6Address(input)).description == output) }
        for bad in [":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "1.2.3.4"] { #expect(IPv6Address(bad) == nil) }
    }

    @Test("prefixes reject host bits and count addresses beyond /24")
    func prefixes() throws {
        let cgnat = try #require(IPv4Prefix("100.64.0.0/10"))
        #expect(cgnat.size == 4_194_304)
        #expect(cgnat.address(at: 300)?.description == "100.64.1.44")
        #expect(cgnat.contains(IPv4Address("100.127.255.255")!) && !cgnat.contains(IPv4Address("100.128.0.0")!))
        #expect(IPv4Prefix("100.64.0.1/10") == nil)
        let ula = try #require(IPv6Prefix("fd7a:115c:a1e0::/64"))
        #expect(ula.address(interfaceID: 300).description == "fd7a:115c:a1e0::12c")
        #expect(IPv6Prefix("fd7a::1/64") == nil)
        #expect(ula.contains(IPv6Address("fd7a:115c:a1e0::2")!) && ula.contains(IPv6Address("fd7a:115c:a1e0:0:ffff::1")!))
        #expect(!ula.contains(IPv6Address("fd7a:115c:a1e0:1::2")!) && !ula.contains(IPv6Address("2001:db8::1")!))
        let odd = try #require(IPv6Prefix("fc00::/7"))
        #expect(odd.contains(IPv6Address("fdff::1")!) && odd.contains(IPv6Address("fc00::1")!) && !odd.contains(IPv6Address("fe00::1")!))
    }

    @Test("base64 matches RFC 4648 test vectors and refuses non-canonical text")
    func base64() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        for bad in ["Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    @Test("JSON writer escapes and the parser reads it back")
    func jsonEscapes() throws {
        let value = JSONValue.object(["a\"b": .string("line\nbreak\u{01}\\ ☕ 🎉"), "n": .array([.int(-5), .bool(true), .null, .double(1.5)])])
        #expect(try JSONParser.parse(JSONWriter.string(value)) == value)
        #expect(try JSONParser.parse(#""\ud83c\udf89""#) == .string("🎉"))
    }

    @Test("network names and paths")
    func networkNames() {
        #expect(ProtocolVersion.networkName(fromPath: "/v1/networks/home-2") == "home-2")
        for bad in ["/v1/networks/", "/v1/networks/Home", "/v1/networks/-x", "/v2/networks/home", "/v1/networks/a/b"] {
            #expect(ProtocolVersion.networkName(fromPath: bad) == nil)
        }
    }
}
