import XCTest

/// The entry point `Tests/bench/datapath_bench.py` runs under `valgrind --tool=callgrind`, with the load set by
/// `RIFTGATE_FORWARDING_PACKETS` and `RIFTGATE_FORWARDING_BURST`.
///
/// It is an XCTest case rather than a Swift Testing test because valgrind 3.19 aborts inside Swift Testing's runner
/// ("the 'impossible' happened", before any test runs); XCTest's runner works under it. Without the environment it
/// skips: the Swift Testing suite next to it covers the same code in every test run.
final class ForwardingLoopCallgrindEntry: XCTestCase {
    func testForwardConfiguredLoad() throws {
        guard let run = ForwardingRun.fromEnvironment() else {
            throw XCTSkip("only for the callgrind benchmark (make bench): set RIFTGATE_FORWARDING_PACKETS")
        }
        let outcome = try run.run()
        XCTAssertFalse(outcome.timedOut, "only \(outcome.delivered) of \(outcome.sent) datagrams forwarded in time")
        XCTAssertEqual(outcome.delivered, run.packets)
        XCTAssertEqual(outcome.outOfOrder, 0)
        print("forwarded \(outcome.packetsOut) datagrams (\(outcome.bytesOut) bytes) in bursts of \(run.burst)")
    }
}
