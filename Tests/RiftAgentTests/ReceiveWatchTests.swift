@testable import RiftAgent
import Testing

/// The data-plane liveness signal on its own: silence counts only while this side sends.
@Suite("Receive watch")
struct ReceiveWatchTests {
    @Test("received bytes that stop while sent bytes advance make the path dead after the deadline, not before")
    func silenceWhileSending() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 100, sent: 100), now: 0)
        watch.observe(TrafficCounters(received: 132, sent: 132), now: 1_000)
        watch.observe(TrafficCounters(received: 132, sent: 164), now: 2_000)
        #expect(!watch.isDead(now: 2_000))
        watch.observe(TrafficCounters(received: 132, sent: 196), now: 3_000)
        #expect(watch.isDead(now: 3_000))
        #expect(watch.silence(now: 3_000) == 2_000)
        watch.observe(TrafficCounters(received: 164, sent: 228), now: 4_000)
        #expect(!watch.isDead(now: 4_000), "a packet that arrives ends the silence")
    }

    @Test("a tunnel where neither side sends is silent, not dead; missing counters prove nothing")
    func quietIsNotDead() {
        var watch = ReceiveWatch(now: 0)
        for second in 0..<60 { watch.observe(TrafficCounters(received: 10, sent: 10), now: Int64(second) * 1_000) }
        #expect(!watch.isDead(now: 60_000))
        for second in 60..<70 { watch.observe(nil, now: Int64(second) * 1_000) }
        #expect(!watch.isDead(now: 70_000))
    }

    @Test("counters that go backwards (the peer was configured afresh) restart the watch")
    func countersReset() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 500, sent: 500), now: 0)
        watch.observe(TrafficCounters(received: 500, sent: 600), now: 1_000)
        watch.observe(TrafficCounters(received: 0, sent: 32), now: 1_900)
        watch.observe(TrafficCounters(received: 0, sent: 64), now: 3_000)
        #expect(!watch.isDead(now: 3_000), "silence counts from the reset at 1.9 s")
        watch.observe(TrafficCounters(received: 0, sent: 96), now: 3_900)
        #expect(watch.isDead(now: 3_900))
    }
}
