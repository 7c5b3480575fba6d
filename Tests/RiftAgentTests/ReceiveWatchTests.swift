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
        #expect(!watch.isDead(now: 3_000), "2 s: one lost keepalive and a late one, not a dead path")
        watch.observe(TrafficCounters(received: 132, sent: 228), now: 4_000)
        #expect(watch.isDead(now: 4_000))
        #expect(watch.silence(now: 4_000) == 3_000)
        watch.observe(TrafficCounters(received: 164, sent: 260), now: 5_000)
        #expect(!watch.isDead(now: 5_000), "a packet that arrives ends the silence")
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
        watch.observe(TrafficCounters(received: 0, sent: 96), now: 4_900)
        #expect(watch.isDead(now: 4_900))
    }

    @Test("after two-way traffic on every read, silence is suspect at 500 ms; after keepalives only, at 2.75 s")
    func suspicionFollowsTheTraffic() {
        var busy = ReceiveWatch(now: 0)
        var now: Int64 = 0
        var counters = TrafficCounters(received: 0, sent: 0)
        busy.observe(counters, now: now)
        for _ in 0..<4 {
            now += 250
            counters.received += 100
            counters.sent += 100
            busy.observe(counters, now: now)
        }
        now += 250
        counters.sent += 100
        busy.observe(counters, now: now)
        #expect(!busy.isSuspect(now: now), "one read without a packet is not enough")
        now += 250
        counters.sent += 100
        busy.observe(counters, now: now)
        #expect(busy.isSuspect(now: now) && !busy.isDead(now: now))

        var quiet = ReceiveWatch(now: 0)
        quiet.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        quiet.observe(TrafficCounters(received: 32, sent: 32), now: 1_000)  // one keepalive each way: not busy
        quiet.observe(TrafficCounters(received: 32, sent: 64), now: 3_500)
        #expect(!quiet.isSuspect(now: 3_500), "2.5 s after a keepalive: one was lost, the next came late (a lossy link)")
        quiet.observe(TrafficCounters(received: 32, sent: 96), now: 3_750)
        #expect(quiet.isSuspect(now: 3_750) && !quiet.isDead(now: 3_750))
        quiet.observe(TrafficCounters(received: 32, sent: 128), now: 4_000)
        #expect(quiet.isDead(now: 4_000))
    }

    @Test("data sent into an idle tunnel's silence is suspect 1.25 s after the read that saw it, before the quiet deadline")
    func unansweredDataIsSuspect() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        watch.observe(TrafficCounters(received: 32, sent: 32), now: 250)  // keepalives: the last packet in
        watch.observe(TrafficCounters(received: 32, sent: 64), now: 500)  // our keepalive: no answer owed
        var sent: UInt64 = 192
        watch.observe(TrafficCounters(received: 32, sent: sent), now: 750)  // pings go out, one every read
        for now in stride(from: Int64(1_000), through: 1_750, by: 250) {
            sent += 128
            watch.observe(TrafficCounters(received: 32, sent: sent), now: now)
        }
        #expect(!watch.isSuspect(now: 1_750))
        #expect(watch.unanswered(now: 1_750) == 1_000)
        watch.observe(TrafficCounters(received: 32, sent: sent + 128), now: 2_000)
        #expect(watch.isSuspect(now: 2_000), "1.25 s after the ping, although the last packet in is only 1.75 s old")
        #expect(watch.suspicionSummary(now: 2_000)
                == "WireGuard received nothing for 1750 ms while sending (data unanswered for 1250 ms)")
        watch.observe(TrafficCounters(received: 64, sent: sent + 128), now: 2_250)
        #expect(!watch.isSuspect(now: 2_250) && watch.unanswered(now: 2_250) == 0, "any packet in answers it")

        var sameRead = ReceiveWatch(now: 0)  // data that went out on the read a packet came in may predate it
        sameRead.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        sameRead.observe(TrafficCounters(received: 128, sent: 128), now: 250)
        sameRead.observe(TrafficCounters(received: 128, sent: 160), now: 500)  // then only a keepalive
        #expect(sameRead.unanswered(now: 1_500) == 0)
    }

    @Test("a packet a second (a ping's answer) lost once is no suspicion; the next data unanswered too is one")
    func oneLostAnswerIsNotACut() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        watch.observe(TrafficCounters(received: 128, sent: 32), now: 250)  // a ping in
        watch.observe(TrafficCounters(received: 128, sent: 160), now: 500)  // our answer to it: lost on the way
        for now in stride(from: Int64(750), through: 1_500, by: 250) {
            watch.observe(TrafficCounters(received: 128, sent: 160), now: now)
            #expect(!watch.isSuspect(now: now), "\(now): one unanswered send is not enough")
        }
        watch.observe(TrafficCounters(received: 256, sent: 160), now: 1_750)  // the next ping, 1.5 s after the first
        #expect(!watch.isSuspect(now: 1_750) && watch.unanswered(now: 1_750) == 0)

        var cut = ReceiveWatch(now: 0)  // the same, but the path is gone: the next data goes unanswered too
        cut.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        cut.observe(TrafficCounters(received: 128, sent: 32), now: 250)
        cut.observe(TrafficCounters(received: 128, sent: 160), now: 500)  // data out
        cut.observe(TrafficCounters(received: 128, sent: 160), now: 1_250)
        cut.observe(TrafficCounters(received: 128, sent: 288), now: 1_500)  // data out again, 1 s later
        #expect(!cut.isSuspect(now: 2_000))
        cut.observe(TrafficCounters(received: 128, sent: 288), now: 2_250)
        #expect(cut.isSuspect(now: 2_250), "the second send unanswered for 750 ms, the first for 1.75 s")
    }

    @Test("a path whose data waited 800 ms for an answer is given 1.3 s; never more than the quiet deadline; forgotten in 2 min")
    func slowAnswersRaiseTheDeadline() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        watch.observe(TrafficCounters(received: 0, sent: 128), now: 250)  // data out
        watch.observe(TrafficCounters(received: 32, sent: 128), now: 1_050)  // the answer, 800 ms later (a slow path)
        #expect(watch.answerDeadline(now: 1_050) == 1_300)
        watch.observe(TrafficCounters(received: 32, sent: 256), now: 1_300)  // data out again
        watch.observe(TrafficCounters(received: 32, sent: 384), now: 1_800)  // and again, 500 ms later
        watch.observe(TrafficCounters(received: 32, sent: 512), now: 2_550)
        #expect(!watch.isSuspect(now: 2_550), "1.25 s unanswered is within this path's 1.3 s")
        watch.observe(TrafficCounters(received: 32, sent: 640), now: 2_600)
        #expect(watch.isSuspect(now: 2_600) && watch.silence(now: 2_600) < ReceiveWatch.suspicionAfter.quiet,
                "suspected by the data rule alone")

        var outage = ReceiveWatch(now: 0)  // a 5 s outage the path came back from counts, but only up to the quiet deadline
        outage.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        outage.observe(TrafficCounters(received: 0, sent: 128), now: 250)
        outage.observe(TrafficCounters(received: 32, sent: 128), now: 5_250)
        #expect(outage.answerDeadline(now: 5_250) == ReceiveWatch.suspicionAfter.quiet)
        #expect(outage.answerDeadline(now: 5_250 + 120_000) == ReceiveWatch.minimumAnswerDeadline, "forgotten")
    }

    @Test("the recent maximum keeps a value for one to two windows")
    func recentMaximum() {
        var maximum = RecentMaximum(window: 60_000)
        #expect(maximum.value(now: 0) == 0)
        maximum.record(700, now: 1_000)
        maximum.record(300, now: 50_000)
        #expect(maximum.value(now: 60_000) == 700)
        maximum.record(200, now: 70_000)  // a new bucket; the 700 is now the previous one's
        #expect(maximum.value(now: 100_000) == 700)
        #expect(maximum.value(now: 121_000) == 200, "the previous bucket has gone")
        #expect(maximum.value(now: 181_000) == 0)
    }

    @Test("three busy reads are not enough, and a read with traffic one way only ends the streak")
    func busyNeedsFourTwoWayReads() {
        var watch = ReceiveWatch(now: 0)
        watch.observe(TrafficCounters(received: 0, sent: 0), now: 0)
        watch.observe(TrafficCounters(received: 100, sent: 100), now: 250)
        watch.observe(TrafficCounters(received: 200, sent: 200), now: 500)
        watch.observe(TrafficCounters(received: 300, sent: 200), now: 750)  // one-way: the streak starts again
        watch.observe(TrafficCounters(received: 400, sent: 300), now: 1_000)
        watch.observe(TrafficCounters(received: 500, sent: 400), now: 1_250)
        watch.observe(TrafficCounters(received: 600, sent: 500), now: 1_500)
        watch.observe(TrafficCounters(received: 600, sent: 600), now: 2_250)
        #expect(watch.suspicionDeadline == ReceiveWatch.suspicionAfter.quiet)
        #expect(!watch.isSuspect(now: 2_250))
    }
}

extension ReceiveWatchTests {
    /// A watch that saw traffic both ways on five reads, 250 ms apart (up to 1,250 ms), and the counters it last saw.
    static func afterTwoWayTraffic() -> (ReceiveWatch, TrafficCounters) {
        var watch = ReceiveWatch(now: 0)
        var counters = TrafficCounters(received: 0, sent: 0)
        watch.observe(counters, now: 0)
        for read in 1...5 {
            counters.received += 100
            counters.sent += 100
            watch.observe(counters, now: Int64(read) * 250)
        }
        return (watch, counters)
    }

    @Test("when both sides stop sending together, the busy deadline no longer applies")
    func pauseEndsBusy() {
        var (watch, counters) = Self.afterTwoWayTraffic()
        watch.observe(counters, now: 1_500)  // nothing either way: the user stopped pinging
        counters.sent += 32
        watch.observe(counters, now: 2_250)  // our keepalive, a second after the last packet
        #expect(watch.suspicionDeadline == ReceiveWatch.suspicionAfter.quiet)
        #expect(!watch.isSuspect(now: 2_250), "1 s after the traffic stopped is the keepalive rhythm, not a cut")
    }

    @Test("a silence that began while this side sent stays busy when the sender later backs off (TCP after a cut)")
    func backingOffStaysBusy() {
        var (watch, counters) = Self.afterTwoWayTraffic()
        counters.sent += 1_400
        watch.observe(counters, now: 1_500)  // segments in flight when the path died
        watch.observe(counters, now: 1_750)  // waiting for the retransmission timer
        counters.sent += 1_400
        watch.observe(counters, now: 2_000)  // the retransmission
        #expect(watch.suspicionDeadline == ReceiveWatch.suspicionAfter.busy)
        #expect(watch.isSuspect(now: 2_000))
    }
}
