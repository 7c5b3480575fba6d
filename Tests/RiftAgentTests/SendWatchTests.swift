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
            if watch.keepaliveDue(TrafficCounters(received: UInt64(read) * 100, sent: 500), now: now) { due.append(now) }
        }
        #expect(due == [1_000, 2_000, 3_000, 4_000], "first read sets the baseline; then once per second")
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
        for read in 1...9 {  // the first read sets the baseline, then two seconds of receiving only
            let actions = h.send(.tick(nowMilliseconds: 60_000 + Int64(read) * 250, handshakeAge: [b: 3],
                                       traffic: [b: TrafficCounters(received: UInt64(read) * 100, sent: 100)]), to: 1)
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
