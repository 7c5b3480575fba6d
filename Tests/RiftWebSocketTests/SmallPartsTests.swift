@testable import RiftWebSocket
import Testing

@Suite("close frames, durations and lws log explanations")
struct SmallPartsTests {
    @Test("close codes an endpoint may not send become 1000; reasons are cut to 123 bytes on a character boundary")
    func closeFrame() {
        #expect(CloseFrame(code: 1008, reason: "x").code == 1008)
        #expect(CloseFrame(code: 4321, reason: "x").code == 4321)
        for reserved: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
            #expect(CloseFrame(code: reserved, reason: "").code == 1000)
        }
        let long = CloseFrame(code: 1000, reason: String(repeating: "é", count: 100))
        #expect(long.reason.utf8.count == 122)
        #expect(long.reason.allSatisfy { $0 == "é" })
    }

    @Test("a received close payload is decoded")
    func closePayload() {
        #expect(CloseFrame(payload: [0x03, 0xE9] + Array("bye".utf8)) == CloseFrame(code: 1001, reason: "bye"))
        #expect(CloseFrame(payload: [UInt8]()) == nil)
    }

    @Test("durations round up to whole seconds and convert to microseconds")
    func durations() {
        #expect(Duration.milliseconds(1).wholeSecondsRoundedUp == 1)
        #expect(Duration.seconds(2).wholeSecondsRoundedUp == 2)
        #expect(Duration.milliseconds(2_001).wholeSecondsRoundedUp == 3)
        #expect(Duration.zero.wholeSecondsRoundedUp == 0)
        #expect(Duration.milliseconds(20).wholeMicroseconds == 20_000)
        #expect(Duration.seconds(-1).wholeMicroseconds == 0)
    }

    @Test("lws' bind failure becomes the system error; its TLS verification line becomes the OpenSSL reason")
    func logExplanations() {
        let bind = LibraryLogExplanation.contextFailure(["ERROR on binding fd 9 to port 443 (-1 98)", "init server failed"])
        #expect(bind.text == "Address already in use")
        #expect(bind.code == 98)
        #expect(LibraryLogExplanation.contextFailure([]).text == "libwebsockets gave no reason")
        let tls = ["SSL error: certificate has expired (preverify_ok=0;err=10;depth=0)", "other"]
        #expect(LibraryLogExplanation.certificateVerificationError(tls) == "certificate has expired")
        #expect(LibraryLogExplanation.certificateVerificationError(["unrelated"]) == nil)
    }

    @Test("IPv4 literals are told apart from names and IPv6 addresses")
    func ipv4Literals() {
        #expect("127.0.0.1".isIPv4Literal)
        #expect(!"256.0.0.1".isIPv4Literal)
        #expect(!"::1".isIPv4Literal)
        #expect(!"eth0".isIPv4Literal)
        #expect(!"1.2.3".isIPv4Literal)
    }

    @Test("connection ids are unique and print without exposing anything")
    func connectionIDs() {
        let first = ConnectionID.next()
        let second = ConnectionID.next()
        #expect(first != second)
        #expect(second.rawValue > first.rawValue)
        #expect(first.description == "ws#\(first.rawValue)")
    }
}
