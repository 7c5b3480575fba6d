@testable import RiftWebSocket
import Testing

@Suite("fair share of the handler's attention between groups of connections")
struct FairEventSchedulerTests {
    /// Hands each event over now when admitted, or holds it, as the server does; returns what was handed over.
    private func arrive(_ events: [Int], group: Int, _ scheduler: inout FairEventScheduler<Int>) -> [Int] {
        var handed: [Int] = []
        for event in events {
            if scheduler.admit(group) {
                handed.append(event)
            } else {
                scheduler.hold(event, group: group, overflow: &handed)
            }
        }
        return handed
    }

    @Test("a busy group hands over its share per pass; the rest follow in order")
    func busyGroupIsSpreadOverPasses() {
        var scheduler = FairEventScheduler<Int>(eventsPerPass: 2)
        #expect(arrive(Array(1...7), group: 4, &scheduler) == [1, 2])
        var passes: [[Int]] = []
        while scheduler.hasHeld {
            var batch: [Int] = []
            scheduler.endPass(into: &batch)
            passes.append(batch)
        }
        #expect(passes == [[3, 4], [5, 6], [7]])
    }

    @Test("another group's event goes first; the busy group's next event waits behind its held ones")
    func quietGroupGoesFirst() {
        var scheduler = FairEventScheduler<Int>(eventsPerPass: 1)
        #expect(arrive([1, 2, 3], group: 0, &scheduler) == [1])
        #expect(arrive([100], group: 1, &scheduler) == [100])
        var batch: [Int] = []
        scheduler.endPass(into: &batch)
        #expect(batch == [2])
        // Pass 2: the released event used group 0's share, and a new one queues behind 3.
        #expect(arrive([4], group: 0, &scheduler) == [])
        batch.removeAll()
        scheduler.endPass(into: &batch)
        scheduler.endPass(into: &batch)
        #expect(batch == [3, 4])
        #expect(!scheduler.hasHeld)
    }

    @Test("a group holding its limit is handed over whole, in order: memory stays bounded")
    func overflowHandsEverythingOver() {
        var scheduler = FairEventScheduler<Int>(eventsPerPass: 1, maximumHeldPerGroup: 3)
        #expect(arrive([1, 2, 3], group: 9, &scheduler) == [1])
        #expect(arrive([4], group: 9, &scheduler) == [2, 3, 4])
        #expect(!scheduler.hasHeld)
    }

    @Test("flushing a group and ending the loop hand over everything held, in order")
    func flushes() {
        var scheduler = FairEventScheduler<Int>(eventsPerPass: 1)
        _ = arrive([1, 2, 3], group: 2, &scheduler)
        _ = arrive([10, 11], group: 3, &scheduler)
        var batch: [Int] = []
        scheduler.takeAll(2, into: &batch)
        #expect(batch == [2, 3])
        #expect(scheduler.isHolding(3) && !scheduler.isHolding(2))
        batch.removeAll()
        scheduler.takeEverything(into: &batch)
        #expect(batch == [11])
        #expect(!scheduler.hasHeld)
    }

    @Test("0 means no limit: nothing is ever held")
    func unlimited() {
        var scheduler = FairEventScheduler<Int>(eventsPerPass: 0)
        #expect(arrive(Array(0..<5_000), group: 1, &scheduler).count == 5_000)
        #expect(!scheduler.hasHeld)
    }
}
