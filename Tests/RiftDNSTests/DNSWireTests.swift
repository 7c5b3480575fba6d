import Testing
@testable import RiftDNS

/// Queries and answers through libldns: what goes on the wire for each kind of answer, and what is dropped.
@Suite struct DNSWireTests {
    static let zone = DNSZone(domain: "home.rift", hosts: [DNSHost(label: "laptop-b", ipv4: "100.64.0.2", ipv6: "fd7a:115c:a1e0::2")])

    func exchange(_ name: String, _ type: DNSRecordType, id: UInt16 = 0x1234, ednsSize: UInt16? = nil, zone: DNSZone = zone) throws -> DNSWire.Message {
        let query = try #require(DNSWire.query(name: name, type: type, id: id, ednsSize: ednsSize))
        let reply = try #require(DNSWire.respond(to: query, answering: zone.answer))
        return try #require(DNSWire.decode(reply))
    }

    @Test func anAnswerEchoesIdQuestionAndSpelling() throws {
        let message = try exchange("Laptop-B.home.rift.", .a, id: 0xBEEF)
        #expect(message.id == 0xBEEF && message.isResponse && message.authoritative && !message.truncated)
        #expect(message.code == 0)
        #expect(message.questions == ["Laptop-B.home.rift.\tIN\tA"])
        #expect(message.answers == ["Laptop-B.home.rift.\t5\tIN\tA\t100.64.0.2"])
        #expect(try exchange("laptop-b.home.rift", .aaaa).answers == ["laptop-b.home.rift.\t5\tIN\tAAAA\tfd7a:115c:a1e0::2"])
    }

    @Test func negativeAnswersAndRefusalsOnTheWire() throws {
        let missing = try exchange("printer.home.rift", .a)
        #expect(missing.code == 3 && missing.authoritative && missing.answers.isEmpty)
        #expect(missing.authority.count == 1 && missing.authority[0].contains("SOA"))
        let refused = try exchange("example.com", .a)
        #expect(refused.code == 5 && !refused.authoritative && refused.answers.isEmpty && refused.authority.isEmpty)
        #expect(refused.questions == ["example.com.\tIN\tA"])
        let ptr = try exchange("2.0.64.100.in-addr.arpa", .ptr)
        #expect(ptr.answers == ["2.0.64.100.in-addr.arpa.\t5\tIN\tPTR\tlaptop-b.home.rift."])
    }

    @Test func ednsIsEchoed() throws {
        let message = try exchange("laptop-b.home.rift", .a, ednsSize: 4096)
        #expect(message.ednsSize == 1232, "an OPT record answers an OPT record, with our size")
        #expect(try exchange("laptop-b.home.rift", .a).ednsSize == nil)
    }

    @Test func anUnknownEDNSVersionGetsBADVERSWithoutRecords() throws {
        let query = try #require(DNSWire.query(name: "laptop-b.home.rift", type: .a, id: 0x0BAD, ednsSize: 1232, ednsVersion: 1))
        let reply = try #require(DNSWire.respond(to: query, answering: Self.zone.answer))
        let message = try #require(DNSWire.decode(reply))
        #expect(message.id == 0x0BAD && message.isResponse)
        #expect(Int(message.extendedCode) << 4 | Int(message.code) == 16, "BADVERS: 1 in the OPT record, 0 in the header")
        #expect(message.answers.isEmpty && message.authority.isEmpty && message.ednsSize == 1232)
        #expect(try exchange("laptop-b.home.rift", .a, ednsSize: 1232).extendedCode == 0, "version 0 is answered as usual")
    }

    @Test func anAnswerBeyond512BytesIsTruncatedUnlessEDNSAllowsIt() throws {
        let crowded = DNSZone(domain: "home.rift", hosts: (1...60).map { DNSHost(label: "many", ipv4: "100.64.1.\($0)", ipv6: nil) })
        let plain = try exchange("many.home.rift", .a, zone: crowded)
        #expect(plain.truncated && plain.answers.isEmpty && plain.code == 0)
        let large = try exchange("many.home.rift", .a, ednsSize: 1232, zone: crowded)
        #expect(!large.truncated && large.answers.count == 60)
    }

    @Test func responsesAndUnreadableDatagramsGetNoReply() throws {
        let query = try #require(DNSWire.query(name: "laptop-b.home.rift", type: .a, id: 7))
        let reply = try #require(DNSWire.respond(to: query, answering: Self.zone.answer))
        #expect(DNSWire.respond(to: reply, answering: Self.zone.answer) == nil, "a response is never answered")
        #expect(DNSWire.respond(to: [], answering: Self.zone.answer) == nil)
        #expect(DNSWire.respond(to: Array("hello, world".utf8), answering: Self.zone.answer) == nil)
        #expect(DNSWire.respond(to: Array(query.dropLast(3)), answering: Self.zone.answer) == nil)
    }

    @Test func headerOnlyQueriesAreFormatErrorsAndOtherOpcodesNotImplemented() throws {
        let query = try #require(DNSWire.query(name: "laptop-b.home.rift", type: .a, id: 9))
        // The header alone with QDCOUNT 0: a readable message without a question.
        var empty = Array(query.prefix(12))
        empty[4] = 0; empty[5] = 0
        let formErrReply = try #require(DNSWire.respond(to: empty, answering: Self.zone.answer))
        let formErr = try #require(DNSWire.decode(formErrReply))
        #expect(formErr.code == 1 && formErr.id == 9 && formErr.isResponse)
        var notify = query
        notify[2] = (notify[2] & 0x87) | (4 << 3)  // opcode NOTIFY
        let notImpReply = try #require(DNSWire.respond(to: notify, answering: Self.zone.answer))
        let notImp = try #require(DNSWire.decode(notImpReply))
        #expect(notImp.code == 4)
    }

    @Test func garbageNeverCrashesAndEveryReplyIsAWellFormedResponse() throws {
        let seeds = try [
            #require(DNSWire.query(name: "laptop-b.home.rift", type: .a, id: 1)),
            #require(DNSWire.query(name: "2.0.64.100.in-addr.arpa", type: .ptr, id: 2, ednsSize: 1232)),
            #require(DNSWire.query(name: "example.com", type: .any, id: 3)),
        ]
        var generator = SplitMix(seed: 16)
        var inputs: [[UInt8]] = []
        for seed in seeds {
            inputs += (0..<seed.count).map { Array(seed.prefix($0)) }  // every truncation
            for _ in 0..<2_000 {  // flipped bits and bytes
                var mutated = seed
                for _ in 0...(generator.next() % 4) {
                    let index = Int(generator.next() % UInt64(mutated.count))
                    mutated[index] = generator.next() % 2 == 0 ? mutated[index] ^ (1 << UInt8(generator.next() % 8)) : UInt8(truncatingIfNeeded: generator.next())
                }
                inputs.append(mutated)
            }
        }
        for _ in 0..<3_000 {  // plain noise, mostly header-sized
            inputs.append((0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        }
        var answered = 0
        for input in inputs {
            guard let reply = DNSWire.respond(to: input, answering: Self.zone.answer) else { continue }
            answered += 1
            let message = try #require(DNSWire.decode(reply), "unreadable reply to \(input)")
            #expect(message.isResponse)
            #expect(reply.count <= DNSWire.ednsPayloadSize)
            #expect(Array(reply.prefix(2)) == Array(input.prefix(2)), "the reply carries the query's id")
        }
        #expect(answered > 100, "mutated queries are mostly still answered (\(answered) of \(inputs.count))")
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
