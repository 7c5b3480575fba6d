import RiftHub
import Testing

@Suite("STUN codec")
struct STUNMessageTests {
    private let transaction: [UInt8] = [0xB7, 0xE7, 0xA7, 0x01, 0xBC, 0x34, 0xD6, 0x86, 0xFA, 0x87, 0xDF, 0xAE]

    @Test("RFC 5769 §2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853 and FINGERPRINT")
    func rfc5769IPv4Vector() {
        let response = STUNMessage.bindingSuccessResponse(to: STUNBindingRequest(transactionID: transaction),
                                                          endpoint: STUNEndpoint(address: [192, 0, 2, 1], port: 32853))
        // Header, then XOR-MAPPED-ADDRESS exactly as in the RFC's test vector.
        #expect(Array(response[0..<4]) == [0x01, 0x01, 0x00, 0x14])
        #expect(Array(response[4..<20]) == [0x21, 0x12, 0xA4, 0x42] + transaction)
        #expect(Array(response[20..<32]) == [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43])
        #expect(Array(response[32..<36]) == [0x80, 0x28, 0x00, 0x04])
        #expect(STUNMessage.mappedEndpoint(inResponse: response) == STUNEndpoint(address: [192, 0, 2, 1], port: 32853))
    }

    @Test("RFC 5769 §2.3 IPv6 response: XOR-MAPPED-ADDRESS 2001:db8:1234:5678:11:2233:4455:6677 port 32853")
    func rfc5769IPv6Vector() {
        let address: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
        let response = STUNMessage.bindingSuccessResponse(to: STUNBindingRequest(transactionID: transaction), endpoint: STUNEndpoint(address: address, port: 32853))
        #expect(Array(response[20..<44]) == [
            0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xA1, 0x47, 0x01, 0x13, 0xA9, 0xFA, 0xA5, 0xD3, 0xF1, 0x79,
            0xBC, 0x25, 0xF4, 0xB5, 0xBE, 0xD2, 0xB9, 0xD9,
        ])
        #expect(STUNMessage.mappedEndpoint(inResponse: response)?.address == address)
    }

    @Test("RFC 5769 §2.1 sample request (with FINGERPRINT) is a valid Binding request")
    func rfc5769Request() {
        // The RFC's sample request, whose FINGERPRINT is 0xe57a3bcf.
        let request: [UInt8] = [
            0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xA4, 0x42, 0xB7, 0xE7, 0xA7, 0x01, 0xBC, 0x34, 0xD6, 0x86, 0xFA, 0x87, 0xDF, 0xAE,
            0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4E, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6C, 0x69, 0x65, 0x6E, 0x74,
            0x00, 0x24, 0x00, 0x04, 0x6E, 0x00, 0x01, 0xFF, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2F, 0xF9, 0xB1, 0x51, 0x26, 0x3B, 0x36,
            0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6A, 0x3A, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
            0x9A, 0xEA, 0xA7, 0x0C, 0xBF, 0xD8, 0xCB, 0x56, 0x78, 0x1E, 0xF2, 0xB5, 0xB2, 0xD3, 0xF2, 0x49, 0xC1, 0xB5, 0x71, 0xA2,
            0x80, 0x28, 0x00, 0x04, 0xE5, 0x7A, 0x3B, 0xCF,
        ]
        #expect(STUNMessage.bindingRequest(in: request)?.transactionID == transaction)
        var corrupted = request
        corrupted[request.count - 1] ^= 1
        #expect(STUNMessage.bindingRequest(in: corrupted) == nil, "a wrong FINGERPRINT is ignored")
    }

    @Test("requests built here parse, with and without FINGERPRINT; malformed datagrams are ignored")
    func malformed() {
        #expect(STUNMessage.bindingRequest(in: STUNMessage.bindingRequest(transactionID: transaction))?.transactionID == transaction)
        let withFingerprint = STUNMessage.bindingRequest(transactionID: transaction, withFingerprint: true)
        #expect(STUNMessage.bindingRequest(in: withFingerprint)?.transactionID == transaction)
        let valid = STUNMessage.bindingRequest(transactionID: transaction)
        var response = valid; response[1] = 0x01; response[0] = 0x01
        var badLength = valid; badLength[3] = 4
        var topBits = valid; topBits[0] = 0xC0
        let truncatedAttribute = Array(valid[0..<2]) + [0, 8] + Array(valid[4..<20]) + [0x00, 0x06, 0x00, 0x08, 1, 2, 3, 4]
        for datagram in [[], Array(valid.prefix(19)), response, badLength, topBits, truncatedAttribute, valid + [0]] {
            #expect(STUNMessage.bindingRequest(in: datagram) == nil)
        }
    }

    @Test("a classic RFC 3489 request (no magic cookie, as libnice sends for discovery) gets MAPPED-ADDRESS and its id back")
    func classicRequest() throws {
        // RFC 3489 §11.1: type, length, 16-byte transaction id; here without attributes.
        let classicID: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF] + transaction
        let request: [UInt8] = [0x00, 0x01, 0x00, 0x00] + classicID
        let parsed = try #require(STUNMessage.bindingRequest(in: request))
        #expect(parsed.isClassic && parsed.transactionID == classicID)
        let response = STUNMessage.bindingSuccessResponse(to: parsed, endpoint: STUNEndpoint(address: [192, 0, 2, 1], port: 32853))
        // Header with the id echoed, then MAPPED-ADDRESS 192.0.2.1:32853 in the clear, and nothing else (no FINGERPRINT).
        #expect(response == [0x01, 0x01, 0x00, 0x0C] + classicID + [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x80, 0x55, 192, 0, 2, 1])
        #expect(STUNMessage.mappedEndpoint(inResponse: response) == STUNEndpoint(address: [192, 0, 2, 1], port: 32853))
        // IPv6 clients get family 2 and all 16 address bytes.
        let v6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let response6 = STUNMessage.bindingSuccessResponse(to: parsed, endpoint: STUNEndpoint(address: v6, port: 40000))
        #expect(Array(response6[20..<26]) == [0x00, 0x01, 0x00, 0x14, 0x00, 0x02])
        #expect(STUNMessage.mappedEndpoint(inResponse: response6) == STUNEndpoint(address: v6, port: 40000))
        // A classic request with a truncated attribute is still ignored.
        #expect(STUNMessage.bindingRequest(in: [0x00, 0x01, 0x00, 0x08] + classicID + [0x00, 0x06, 0x00, 0x08, 1, 2, 3, 4]) == nil)
    }
}

@Suite("STUN rate limit")
struct STUNRateLimiterTests {
    @Test("one source gets its burst, then its rate; other sources are unaffected; IPv6 counts per /64")
    func perSource() {
        var limiter = STUNRateLimiter(burst: 3, perSecond: 2, maximumTracked: 100)
        let victim = STUNEndpoint(address: [192, 0, 2, 1], port: 1)
        var answered = 0
        for _ in 0..<10 where limiter.allows(victim, now: 0) { answered += 1 }
        #expect(answered == 3)
        let other = limiter.allows(STUNEndpoint(address: [192, 0, 2, 2], port: 1), now: 0)
        let early = limiter.allows(victim, now: 0.4)
        let refilled = limiter.allows(victim, now: 0.6)
        #expect(other && !early)
        #expect(refilled, "one answer refilled after 0.5 s at 2/s")
        let prefix: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 1]
        var v6Answered = 0
        for host in 0..<5 where limiter.allows(STUNEndpoint(address: prefix + [0, 0, 0, 0, 0, 0, 0, UInt8(host)], port: 9), now: 1) {
            v6Answered += 1
        }
        #expect(v6Answered == 3, "addresses of one /64 share a bucket")
    }

    @Test("a full table answers no new source until refilled buckets can be forgotten")
    func boundedTable() {
        var limiter = STUNRateLimiter(burst: 2, perSecond: 1, maximumTracked: 4)
        var first: [Bool] = []
        for host in 1...4 { first.append(limiter.allows(STUNEndpoint(address: [198, 51, 100, UInt8(host)], port: 1), now: 0)) }
        #expect(first == [true, true, true, true])
        let newcomer = STUNEndpoint(address: [198, 51, 100, 99], port: 1)
        let whileFull = limiter.allows(newcomer, now: 0)
        #expect(!whileFull, "forged sources cannot turn the limit off")
        let later = limiter.allows(newcomer, now: 5)
        #expect(later, "after refilling, old sources are forgotten")
        #expect(limiter.trackedCount == 1)
    }
}
