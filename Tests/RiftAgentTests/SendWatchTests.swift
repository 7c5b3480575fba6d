@testable import RiftAgent
import RiftProtocol
import Testing

/// This side's half of the liveness contract: never a second without sending, whatever WireGuard's timers do.
@Suite("Send watch")
struct SendWatchTests {
    @Test("a sent counter that stands still for a second asks for one keepalive, then one a second at most")
    func quietSideAsksForKeepalives() {
        var watch = SendWatch(now: 0)
        var due: [Int64] = []
        for read in 0...16 {
            let now = Int64(read) * 250
            if watch.keepaliveDue(TrafficCounters(received: UInt64(read) * 32, sent: 500), now: now) { due.append(now) }
        }
        #expect(due == [1_000, 2_000, 3_000, 4_000], "first read sets the baseline; then once per second")
    }

    @Test("the peer's data is answered at the first read that sees it, then at most every 500 ms; keepalives are not")
    func dataGetsAnAnswer() {
        var watch = SendWatch(now: 0)
        var due: [Int64] = []
        var received: UInt64 = 1_000
        for read in 0...8 {
            let now = Int64(read) * 250
            if read >= 2 { received += 128 }  // a ping arrives on every read from 500 ms on; this side sends nothing
            if watch.keepaliveDue(TrafficCounters(received: received, sent: 500), now: now) { due.append(now) }
        }
        #expect(due == [500, 1_000, 1_500, 2_000], "an answer at once, then one per 500 ms while the data lasts")

        var keepalivesOnly = SendWatch(now: 0)
        due = []
        for read in 0...3 {  // a keepalive (32 bytes), or two in one read (64), is not data
            let now = Int64(read) * 250
            let counters = TrafficCounters(received: [0, 32, 96, 128][read], sent: 500)
            if keepalivesOnly.keepaliveDue(counters, now: now) { due.append(now) }
        }
        #expect(due.isEmpty)
    }

    @Test("data that arrives on a read where this side also sent is answered next read, unless this side sends again")
    func sameReadDataIsStillOwed() {
        func answers(_ reads: [(received: UInt64, sent: UInt64)]) -> [Bool] {
            var watch = SendWatch(now: 0)
            return reads.enumerated().map { read, counters in
                watch.keepaliveDue(TrafficCounters(received: counters.received, sent: counters.sent), now: Int64(read) * 250)
            }
        }
        #expect(answers([(0, 0), (128, 96), (128, 96)]) == [false, false, true], "nothing sent after the data")
        #expect(answers([(0, 0), (128, 96), (128, 192), (128, 192)]) == [false, false, false, false],
                "this side sent after it")
    }

    @Test("a side that keeps sending, or whose counters are unknown, asks for nothing")
    func sendingSideAsksForNothing() {
        var watch = SendWatch(now: 0)
        var unknown = SendWatch(now: 0)
        var asked = 0
        for read in 0...16 {
            if watch.keepaliveDue(TrafficCounters(received: 0, sent: UInt64(read / 3) * 32), now: Int64(read) * 250) { asked += 1 }
            if unknown.keepaliveDue(nil, now: Int64(read) * 250) { asked += 1 }
        }
        #expect(asked == 0)
    }

    @Test("the mesh asks WireGuard for the keepalive only for a connected peer with a path")
    func meshAsksOnlyOverAWorkingTunnel() {
        var h = MeshHarness.connectedPair()
        let b = MeshHarness.key(2)
        var asked = 0
        for read in 1...9 {  // the first read sets the baseline, then two seconds of receiving keepalives only
            let actions = h.send(.tick(nowMilliseconds: 60_000 + Int64(read) * 250, handshakeAge: [b: 3],
                                       traffic: [b: TrafficCounters(received: UInt64(read) * 32, sent: 100)]), to: 1)
            asked += actions.filter { $0 == .sendKeepalive(b) }.count
        }
        #expect(asked == 2)
        var fresh = MeshHarness.connectedPair()
        for read in 1...8 {  // no handshake reported: WireGuard's first handshake is not ours to hurry this way
            let actions = fresh.send(.tick(nowMilliseconds: 60_000 + Int64(read) * 250, handshakeAge: [:],
                                           traffic: [b: TrafficCounters(received: 0, sent: 100)]), to: 1)
            #expect(!actions.contains(.sendKeepalive(b)))
        }
    }
}
