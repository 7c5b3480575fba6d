@testable import RiftNice
import Testing

/// libnice's `Ta` (`stun-pacing-timer`), which the agent shortens for relay-only generations: the configured value
/// reaches libnice, the default stays libnice's own, and values RFC 8445 forbids are refused.
@Suite("Check pacing")
struct PacingTests {
    @Test("a configured pacing reaches libnice; none keeps its 20 ms; below 5 ms is refused")
    func pacing() throws {
        let loop = ICEEventLoop(name: "nice-test-pacing")
        defer { loop.shutdown() }
        let plain = try ICESession(loop: loop, configuration: ICESessionConfiguration(
            controlling: true, localAddresses: ["127.0.0.1"]))
        defer { plain.close() }
        #expect(plain.checkPacingInEffect == 20)

        var paced = ICESessionConfiguration(controlling: true, localAddresses: ["127.0.0.1"])
        paced.checkPacingMilliseconds = 5
        let session = try ICESession(loop: loop, configuration: paced)
        defer { session.close() }
        #expect(session.checkPacingInEffect == 5)
        #expect(paced.description.contains("check pacing: 5 ms"))

        paced.checkPacingMilliseconds = 4
        #expect(throws: ICEError.self) { try ICESession(loop: loop, configuration: paced) }
    }
}
