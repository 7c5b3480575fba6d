import Testing
@testable import RiftHub

@Suite("Deadline queue (hello deadlines, TURN refreshes)")
struct DeadlineQueueTests {
    @Test("items come out in order once due, never before")
    func dueInOrder() {
        var queue = DeadlineQueue<Int>()
        queue.schedule(1, at: 10)
        queue.schedule(2, at: 10.5)
        queue.schedule(3, at: 12)
        #expect(queue.takeDue(now: 9.99).isEmpty)
        #expect(queue.takeDue(now: 10.5) == [1, 2])
        #expect(queue.takeDue(now: 11).isEmpty)
        #expect(queue.count == 1)
        #expect(queue.takeDue(now: 100) == [3])
        #expect(queue.count == 0)
    }

    @Test("an item added out of order waits behind the earlier one and is not lost")
    func outOfOrder() {
        var queue = DeadlineQueue<String>()
        queue.schedule("late", at: 20)
        queue.schedule("early", at: 5)
        #expect(queue.takeDue(now: 10).isEmpty)
        #expect(queue.takeDue(now: 20) == ["late", "early"])
    }

    @Test("a long run of schedules and takes keeps only what is pending")
    func compacts() {
        var queue = DeadlineQueue<Int>()
        for step in 0..<20_000 {
            queue.schedule(step, at: Double(step))
            if step % 3 == 0 { _ = queue.takeDue(now: Double(step) - 100) }
        }
        // The last take (step 19,998) took everything due by 19,898.
        #expect(queue.count == 101)
        #expect(queue.takeDue(now: 1e9) == Array(19_899..<20_000))
    }
}
