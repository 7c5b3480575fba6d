import RiftProtocol
import RiftTestSupport
import Testing

/// Peers' DNS labels and domains (PROTOCOL.md §6.13): validation, the derivation hubs use, and the golden cases in
/// `Protocol/vectors/names`.
@Suite("DNS names")
struct DNSNamesTests {
    static let derivation: [(name: String, label: String)] = {
        guard let file = try? GoldenVectors.load("names").first(where: { $0.name == "derivation" })?.value,
              case .array(let cases)? = file["cases"] else { return [] }
        return cases.compactMap { item in
            guard let name = item["name"]?.stringValue, let label = item["label"]?.stringValue else { return nil }
            return (name, label)
        }
    }()

    @Test("the derivation vectors are present")
    func vectorsExist() { #expect(Self.derivation.count >= 8) }

    @Test("each golden display name derives to its label, which is valid")
    func goldenDerivation() {
        for (name, label) in Self.derivation {
            #expect(DNSNames.label(derivedFrom: name) == label, "\(name)")
            #expect(DNSNames.isValidLabel(label))
        }
    }

    @Test("labels: lower-case LDH, 1-63, no dash at either end")
    func labels() {
        for good in ["a", "laptop-b", "9lives", String(repeating: "z", count: 63), "a--b"] { #expect(DNSNames.isValidLabel(good), "\(good)") }
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", "läptop", "a b", String(repeating: "z", count: 64)] {
            #expect(!DNSNames.isValidLabel(bad), "\(bad)")
        }
    }

    @Test("domains: 1-4 labels, not under local or a number, at most 189 characters")
    func domains() {
        for good in ["rift", "home.rift", "home.vpn.example.org"] { #expect(DNSNames.isValidDomain(good), "\(good)") }
        for bad in ["", "home.rift.", "home..rift", "home.local", "home.123", "a.b.c.d.e", "Home.rift"] {
            #expect(!DNSNames.isValidDomain(bad), "\(bad)")
        }
        #expect(DNSNames.isValidSuffix("vpn.example.org"))
        #expect(!DNSNames.isValidSuffix("a.b.c.d"), "four labels after the network name make five")
    }

    @Test("numbered candidates stay valid labels, also for a 63-character base")
    func candidates() {
        #expect(DNSNames.candidate("laptop", 1) == "laptop")
        #expect(DNSNames.candidate("laptop", 2) == "laptop-2")
        let long = String(repeating: "a", count: 62) + "b"
        let second = DNSNames.candidate(long, 12)
        #expect(second.count == 63 && second.hasSuffix("-12") && DNSNames.isValidLabel(second))
        let dashed = String(repeating: "a", count: 60) + "-bc"
        #expect(DNSNames.isValidLabel(DNSNames.candidate(dashed, 2)), "no '--2' ending in a dash before the number")
    }

    @Test("a v3 welcome and peer round-trip their DNS fields; older frames decode without them")
    func codec() throws {
        let decoded = try HubMessage.decode(#"{"type":"peer_joined","peer":{"public_key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=","name":"Laptop B","ipv4":"100.64.0.2","ipv6":"fd00::2","dns_name":"laptop-b-2"}}"#)
        guard case .peerJoined(let peer) = decoded else { Issue.record("not a peer_joined: \(decoded)"); return }
        #expect(peer.dnsName == "laptop-b-2")
        #expect(try HubMessage.decode(HubMessage.peerJoined(peer).encoded()) == decoded)
        var older = peer
        older.dnsName = nil
        #expect(!HubMessage.peerJoined(older).encoded().contains("dns_name"))
    }
}
