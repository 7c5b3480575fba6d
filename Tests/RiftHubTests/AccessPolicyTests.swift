import RiftHub
import RiftProtocol
import Testing

@Suite("Access policy: parsing and evaluation")
struct AccessPolicyTests {
    @Test("port rules parse in their one canonical form", arguments: [
        ("tcp/22", "tcp/22"), ("udp/53", "udp/53"), ("tcp/8000-8099", "tcp/8000-8099"), ("udp/1-65535", "udp/1-65535"), ("tcp/7-7", "tcp/7"),
    ])
    func portRules(text: String, canonical: String) throws {
        #expect(try #require(PortRule(text)).description == canonical)
    }

    @Test("malformed port rules are refused", arguments: [
        "tcp", "tcp/", "tcp/0", "tcp/65536", "tcp/022", "TCP/22", "icmp/1", "tcp/10-9", "tcp/1-", "tcp/-1", "tcp/ 22", "tcp/2a", "/22",
    ])
    func badPortRules(text: String) {
        #expect(PortRule(text) == nil)
    }

    @Test("rules, comments, blank lines and * parse; lines are counted from 1 including blanks")
    func parsing() throws {
        let policy = try AccessPolicy(parsing: """
            # who reaches whom

            laptop -> server          # everything
            ci -> cache:tcp/8080, udp/53-60
            * -> dns:udp/53
            """)
        #expect(policy.rules.map(\.line) == [3, 4, 5])
        #expect(policy.rules[0].ports == nil)
        #expect(policy.rules[1].ports == [PortRule("tcp/8080")!, PortRule("udp/53-60")!])
        #expect(policy.rules[2].source == .any)
        #expect(policy.rules[1].text == "ci -> cache:tcp/8080, udp/53-60")
    }

    @Test("errors name the line, the rule and what is wrong", arguments: [
        ("laptop -> server\nci => cache", 2, "expected SOURCE -> DESTINATION"),
        ("ci -> cache -> db", 1, "expected SOURCE -> DESTINATION"),
        ("\n\nci -> cache:tcp/80,tcp/99999", 3, "\"tcp/99999\" is not a port rule"),
        ("Laptop -> server", 1, "\"Laptop\" is not a tag"),
        ("ci -> :tcp/80", 1, "\"\" is not a tag"),
        ("laptop -> server\nci -> cahce:tcp/8080", 2, "unknown tag \"cahce\" (known tags: cache, ci, laptop, server)"),
    ])
    func errors(text: String, line: Int, reason: String) {
        do {
            _ = try AccessPolicy(parsing: text, knownTags: ["laptop", "server", "ci", "cache"])
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.line == line)
            #expect(error.reason.contains(reason), "\(error)")
            #expect(error.description.hasPrefix("line \(line): \""))
        }
    }

    @Test("without knownTags any well-formed tag is accepted")
    func unknownTagsAllowedWithoutList() throws {
        #expect(try AccessPolicy(parsing: "a -> b").rules.count == 1)
    }

    @Test("decisions: one direction only, ports merged over matching rules, an all-ports rule wins")
    func decisions() throws {
        let policy = try AccessPolicy(parsing: """
            laptop -> server
            ci -> cache:tcp/8080
            * -> cache:udp/53
            ops -> cache:tcp/22
            ops -> cache
            """)
        let laptopToServer = policy.decision(from: ["laptop"], to: ["server"])
        #expect(laptopToServer.isAllowed && laptopToServer.ports == nil && laptopToServer.allowIn == nil)
        #expect(laptopToServer.matchedRules.map(\.line) == [1])
        let serverToLaptop = policy.decision(from: ["server"], to: ["laptop"])
        #expect(!serverToLaptop.isAllowed && serverToLaptop.allowIn == [])
        #expect(!policy.decision(from: ["laptop"], to: ["laptop"]).isAllowed)
        let ciToCache = policy.decision(from: ["ci"], to: ["cache"])
        #expect(ciToCache.allowIn == [PortRule("tcp/8080")!, PortRule("udp/53")!])
        #expect(ciToCache.allows(.tcp, port: 8080) && ciToCache.allows(.udp, port: 53))
        #expect(!ciToCache.allows(.tcp, port: 22) && !ciToCache.allows(.udp, port: 8080))
        let opsToCache = policy.decision(from: ["ops"], to: ["cache"])
        #expect(opsToCache.ports == nil && opsToCache.matchedRules.map(\.line) == [3, 4, 5])
        #expect(policy.decision(from: [], to: ["cache"]).allowIn == [PortRule("udp/53")!], "* matches untagged peers")
        #expect(!policy.decision(from: [], to: []).isAllowed)
    }

    @Test("a network's access: no policy introduces everyone unrestricted; a policy introduces a pair if either direction is allowed")
    func networkAccess() throws {
        let a = PublicKeyFixture.key(1), b = PublicKeyFixture.key(2), c = PublicKeyFixture.key(3)
        #expect(NetworkAccess.open.introduces(a, b))
        #expect(NetworkAccess.open.decision(from: a, to: b).allowIn == nil)
        let access = NetworkAccess(policy: try AccessPolicy(parsing: "laptop -> server"), tags: [a: ["laptop"], b: ["server"]])
        #expect(access.introduces(a, b) && access.introduces(b, a))
        #expect(access.decision(from: b, to: a).allowIn == [])
        #expect(!access.introduces(a, c) && !access.introduces(c, b))
        let empty = NetworkAccess(policy: try AccessPolicy(parsing: "# nothing\n"), tags: [a: ["laptop"]])
        #expect(!empty.introduces(a, b), "an empty policy allows nothing")
    }
}

/// Fixed public keys for tests that need distinct keys but no private key.
enum PublicKeyFixture {
    static func key(_ seed: UInt8) -> PublicKey { try! PublicKey(bytes: [UInt8](repeating: seed, count: 32)) }
}
