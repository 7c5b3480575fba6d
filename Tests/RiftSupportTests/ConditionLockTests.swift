import RiftSupport
import Synchronization
import Testing

@Suite("ConditionLock: the runtime inbox's sleep until work is posted or a deadline passes")
struct ConditionLockTests {
    @Test("a wait with nothing signalled returns false once its time has passed, not before")
    func timesOut() {
        let lock = ConditionLock()
        let started = ContinuousClock.now
        lock.lock()
        var signalled = lock.wait(milliseconds: 50)
        // A wake-up without a signal is allowed; wait again for what is left, as callers do.
        while signalled, ContinuousClock.now - started < .milliseconds(50) { signalled = lock.wait(milliseconds: 50) }
        lock.unlock()
        #expect(!signalled)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    @Test("signal wakes a thread waiting with a long deadline, which then sees what was posted")
    func signalWakes() throws {
        let lock = ConditionLock()
        let posted = Atomic<Bool>(false)
        let woke = Atomic<Bool>(false)
        let waiter = try JoinableThread.spawn(name: "condition-test") {
            lock.lock()
            let deadline = ContinuousClock.now + .seconds(20)
            while !posted.load(ordering: .relaxed), ContinuousClock.now < deadline { lock.wait(milliseconds: 20_000) }
            woke.store(posted.load(ordering: .relaxed), ordering: .relaxed)
            lock.unlock()
        }
        let started = ContinuousClock.now
        lock.lock()
        posted.store(true, ordering: .relaxed)
        lock.signal()
        lock.unlock()
        waiter.join()
        let sawPost = woke.load(ordering: .relaxed)
        #expect(sawPost)
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
