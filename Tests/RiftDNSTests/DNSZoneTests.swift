import Testing
@testable import RiftDNS

/// The resolver's logic without I/O: every kind of answer the zone gives.
@Suite struct DNSZoneTests {
    static let zone = DNSZone(domain: "home.rift", hosts: [
        DNSHost(label: "laptop-b", ipv4: "100.64.0.2", ipv6: "fd7a:115c:a1e0::2"),
        DNSHost(label: "nas", ipv4: "100.64.0.3", ipv6: nil),
    ])

    /// fd7a:115c:a1e0::2's nibbles, last first.
    static let reverseOfLaptopB6 = (["2", "0", "0", "0"] + Array(repeating: "0", count: 16) + ["0", "e", "1", "a", "c", "5", "1", "1", "a", "7", "d", "f"])
        .joined(separator: ".") + ".ip6.arpa"

    func ask(_ name: String, _ type: DNSRecordType) -> DNSAnswer { Self.zone.answer(DNSQuestion(name: name, type: type)) }

    @Test func aAndAAAAOfAHost() {
        let a = ask("laptop-b.home.rift", .a)
        #expect(a.code == .noError && a.authoritative)
        #expect(a.answers == [DNSRecord(name: "laptop-b.home.rift", ttl: 5, data: .a("100.64.0.2"))])
        #expect(a.authority.isEmpty)
        let aaaa = ask("laptop-b.home.rift.", .aaaa)
        #expect(aaaa.answers == [DNSRecord(name: "laptop-b.home.rift", ttl: 5, data: .aaaa("fd7a:115c:a1e0::2"))])
        #expect(ask("laptop-b.home.rift", .any).answers.map(\.type) == [.a, .aaaa])
    }

    @Test func namesAreCaseInsensitiveAndTheTrailingDotIsOptional() {
        for name in ["LAPTOP-B.Home.Rift", "Laptop-B.HOME.RIFT.", "laptop-b.home.rift."] {
            #expect(ask(name, .a).answers.map(\.data) == [.a("100.64.0.2")], "\(name)")
        }
        let upper = DNSZone(domain: "Home.Rift.", hosts: [DNSHost(label: "NAS", ipv4: "100.64.0.3", ipv6: nil)])
        #expect(upper.answer(DNSQuestion(name: "nas.home.rift", type: .a)).answers.count == 1)
    }

    @Test func aTypeTheHostLacksIsNoData() {
        let answer = ask("nas.home.rift", .aaaa)
        #expect(answer.code == .noError && answer.authoritative)
        #expect(answer.answers.isEmpty)
        #expect(answer.authority.map(\.type) == [.soa])
        #expect(ask("nas.home.rift", .ptr).answers.isEmpty)
        #expect(ask("nas.home.rift", .ptr).code == .noError)
    }

    @Test func aMissingNameInTheDomainIsNXDomainWithSOA() {
        for name in ["printer.home.rift", "x.laptop-b.home.rift", "laptop.home.rift"] {
            let answer = ask(name, .a)
            #expect(answer.code == .nameError && answer.authoritative, "\(name)")
            #expect(answer.answers.isEmpty)
            guard case .soa(let primary, _, _, _, _, _, let minimum)? = answer.authority.first?.data else {
                Issue.record("no SOA for \(name)"); continue
            }
            #expect(primary == "home.rift")
            #expect(minimum == 5, "negative answers cached no longer than positive ones")
        }
    }

    @Test func theApexHasItsSOAAndNothingElse() {
        #expect(ask("home.rift", .soa).answers.map(\.type) == [.soa])
        let a = ask("HOME.rift.", .a)
        #expect(a.code == .noError && a.answers.isEmpty && a.authority.map(\.type) == [.soa])
    }

    @Test func everythingOutsideTheDomainIsRefused() {
        for name in ["example.com", "rift", "other.rift", "laptop-b.home.rift.evil.com", "evilhome.rift", "laptop-bhome.rift", ".", ""] {
            for type in [DNSRecordType.a, .aaaa, .any, .ptr, .soa] {
                let answer = ask(name, type)
                #expect(answer == .refused, "\(name) \(type)")
                #expect(!answer.authoritative)
            }
        }
    }

    @Test func ptrOfAHostsAddressesGivesItsName() {
        let v4 = ask("2.0.64.100.in-addr.arpa", .ptr)
        #expect(v4.code == .noError && v4.authoritative)
        #expect(v4.answers == [DNSRecord(name: "2.0.64.100.in-addr.arpa", ttl: 5, data: .ptr("laptop-b.home.rift"))])
        let v6Name = Self.reverseOfLaptopB6
        #expect(ask(v6Name, .ptr).answers.map(\.data) == [.ptr("laptop-b.home.rift")])
        #expect(ask(v6Name.uppercased() + ".", .ptr).answers.count == 1)
        #expect(ask("3.0.64.100.IN-ADDR.ARPA.", .ptr).answers.map(\.data) == [.ptr("nas.home.rift")])
        let a = ask("2.0.64.100.in-addr.arpa", .a)
        #expect(a.code == .noError && a.answers.isEmpty, "other types of a reverse name: NODATA")
    }

    @Test func reverseNamesOfAddressesThatAreNoHostAreRefused() {
        #expect(ask("9.0.64.100.in-addr.arpa", .ptr) == .refused)
        #expect(ask("0.64.100.in-addr.arpa", .ptr) == .refused)
        #expect(ask("1.0.0.127.in-addr.arpa", .ptr) == .refused)
        #expect(ask("3" + Self.reverseOfLaptopB6.dropFirst(), .ptr) == .refused)
    }

    @Test func aRenameIsANewZone() {
        var zone = Self.zone
        zone.hosts[0].label = "laptop-c"
        #expect(zone.answer(DNSQuestion(name: "laptop-b.home.rift", type: .a)).code == .nameError)
        #expect(zone.answer(DNSQuestion(name: "laptop-c.home.rift", type: .a)).answers.count == 1)
        #expect(zone.answer(DNSQuestion(name: "2.0.64.100.in-addr.arpa", type: .ptr)).answers.map(\.data) == [.ptr("laptop-c.home.rift")])
    }

    @Test func reverseNamesAreRFCSpelled() {
        #expect(ReverseName.of("1.2.3.4") == "4.3.2.1.in-addr.arpa")
        // RFC 3596 §2.5's example.
        #expect(ReverseName.of("4321:0:1:2:3:4:567:89ab") == "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa")
        #expect(ReverseName.of("fd7a:115c:a1e0::2") == Self.reverseOfLaptopB6)
        #expect(ReverseName.of("not an address") == nil)
    }
}
