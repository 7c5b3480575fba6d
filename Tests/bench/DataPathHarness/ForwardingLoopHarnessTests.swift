import Testing

/// The forwarding loop, end to end on loopback: every datagram WireGuard sends to a forwarding socket reaches the ICE
/// send once and in order, and the loop's counters agree. `ForwardingRun` is also the data-path benchmark's load.
@Suite("Forwarding loop harness")
struct ForwardingLoopHarnessTests {
    @Test("every datagram from WireGuard reaches the ICE send once, in order, with the loop's counters agreeing",
          arguments: [1, 32])
    func forwardsEveryDatagramInOrder(burst: Int) throws {
        let run = ForwardingRun(packets: 2000, burst: burst, timeout: .seconds(10))
        let outcome = try run.run()
        #expect(!outcome.timedOut, "only \(outcome.delivered) of \(outcome.sent) datagrams forwarded in time")
        #expect(outcome.delivered == run.packets)
        #expect(outcome.outOfOrder == 0)
        #expect(outcome.packetsOut == UInt64(run.packets))
        #expect(outcome.bytesOut == UInt64(run.packets * ForwardingRun.datagramBytes))
        #expect(outcome.dropsOut == 0)
    }
}
