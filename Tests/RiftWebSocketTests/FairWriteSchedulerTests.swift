@testable import RiftWebSocket
import Testing

@Suite("fair share of writes between groups of connections")
struct FairWriteSchedulerTests {
    private func ids(_ range: Range<UInt64>) -> [ConnectionID] { range.map { ConnectionID(rawValue: $0) } }

    /// Admits or postpones each id as the server does, returning the admitted ones.
    private func request(_ ids: [ConnectionID], group: Int, _ scheduler: inout FairWriteScheduler) -> [ConnectionID] {
        var admitted: [ConnectionID] = []
        for id in ids {
            if scheduler.admit(group) { admitted.append(id) } else { scheduler.postpone(id, group: group) }
        }
        return admitted
    }

    @Test("a group arms its share per pass; the rest follow in order, a share per pass")
    func busyGroupIsSpreadOverPasses() {
        var scheduler = FairWriteScheduler(armsPerPass: 3)
        let all = ids(1..<11)
        #expect(request(all, group: 5, &scheduler) == Array(all[0..<3]))
        #expect(scheduler.hasPostponed)
        var passes: [[ConnectionID]] = []
        while scheduler.hasPostponed {
            var armed: [ConnectionID] = []
            scheduler.endPass { armed.append($0); return true }
            passes.append(armed)
        }
        #expect(passes == [Array(all[3..<6]), Array(all[6..<9]), [all[9]]])
    }

    @Test("another group is not held up by a busy one")
    func quietGroupGoesFirst() {
        var scheduler = FairWriteScheduler(armsPerPass: 2)
        _ = request(ids(1..<50), group: 1, &scheduler)
        #expect(request(ids(100..<102), group: 2, &scheduler) == ids(100..<102))
        let beyondShare = scheduler.admit(2)
        #expect(!beyondShare)  // its own share is spent for this pass
    }

    @Test("a postponed group stays behind its queue: a later connection cannot overtake it after the pass")
    func laterConnectionsQueueBehind() {
        var scheduler = FairWriteScheduler(armsPerPass: 1)
        _ = request(ids(1..<4), group: 0, &scheduler)
        var armed: [ConnectionID] = []
        scheduler.endPass { armed.append($0); return true }
        #expect(armed == ids(2..<3))
        // The next pass's share went to the released connection, and id 3 is still waiting.
        let whileQueued = scheduler.admit(0)
        #expect(!whileQueued)
        scheduler.endPass { armed.append($0); return true }
        #expect(armed == ids(2..<4))
        #expect(!scheduler.hasPostponed)
        let afterRelease = scheduler.admit(0)
        #expect(!afterRelease)  // id 3's arm counted toward this pass
        scheduler.endPass { _ in true }
        let nextPass = scheduler.admit(0)
        #expect(nextPass)
    }

    @Test("a connection that is gone when its turn comes does not use the share")
    func goneConnectionsAreSkipped() {
        var scheduler = FairWriteScheduler(armsPerPass: 2)
        _ = request(ids(1..<7), group: 3, &scheduler)
        var armed: [ConnectionID] = []
        scheduler.endPass { id in
            guard id.rawValue != 3 && id.rawValue != 4 else { return false }
            armed.append(id)
            return true
        }
        #expect(armed == [ConnectionID(rawValue: 5), ConnectionID(rawValue: 6)])
        #expect(!scheduler.hasPostponed)
    }

    @Test("0 means no limit; the pass counter still advances")
    func unlimited() {
        var scheduler = FairWriteScheduler(armsPerPass: 0)
        var admittedAll = true
        for _ in 0..<10_000 where !scheduler.admit(7) { admittedAll = false }
        #expect(admittedAll)
        let pass = scheduler.pass
        scheduler.endPass { _ in Issue.record("nothing is postponed"); return true }
        #expect(scheduler.pass == pass + 1)
    }

    @Test("groups come from the path: one path, one group, always in range")
    func groupsByPath() {
        let scheduler = FairWriteScheduler(armsPerPass: 1)
        #expect(scheduler.group(ofPath: "/v1/networks/home") == scheduler.group(ofPath: "/v1/networks/home"))
        let groups = (0..<500).map { scheduler.group(ofPath: "/v1/networks/n\($0)") }
        #expect(groups.allSatisfy { (0..<FairWriteScheduler.groupCount).contains($0) })
        #expect(Set(groups).count > FairWriteScheduler.groupCount / 2)
    }
}
