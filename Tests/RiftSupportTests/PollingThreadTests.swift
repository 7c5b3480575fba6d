import Foundation
import RiftSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("PollingThread: the poll-and-stop skeleton of the control socket and the network monitor")
struct PollingThreadTests {
    /// Descriptors open in this process now.
    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// Waits (bounded) until `condition` holds.
    private func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test("the body wakes when its descriptor turns readable, and stop ends it while it waits with no timeout")
    func wakesAndStops() throws {
        let watched = try SystemCall.pipe()
        defer { close(watched.read); close(watched.write) }
        let seen = Atomic<Int>(0)
        let returned = Atomic<Bool>(false)
        let thread = try PollingThread(name: "rift-test-poll") { waiter in
            var buffer = [UInt8](repeating: 0, count: 16)
            while let ready = waiter.wait(for: [pollfd(fd: watched.read, events: Int16(POLLIN), revents: 0)], timeoutMilliseconds: -1) {
                if ready[0].revents & Int16(POLLIN) != 0, let count = try? SystemCall.read(watched.read, into: &buffer) {
                    seen.add(count, ordering: .relaxed)
                }
            }
            returned.store(true, ordering: .releasing)
        }
        try SystemCall.writeAll(watched.write, [1, 2, 3])
        let readAll = eventually { seen.load(ordering: .relaxed) == 3 }
        #expect(readAll, "the body read what was written")
        let returnedEarly = returned.load(ordering: .acquiring)
        #expect(!returnedEarly, "the body still waits")
        thread.stop()  // no timeout in the body's poll: only the wake-up can end it
        let returnedAfterStop = returned.load(ordering: .acquiring)
        #expect(returnedAfterStop, "stop returns only after the body returned (it joins)")
        thread.stop()  // idempotent
    }

    @Test("starting and stopping leaves no descriptor open")
    func noDescriptorLeak() throws {
        let rounds = 40
        let before = try openDescriptors()
        for _ in 0..<rounds {
            let thread = try PollingThread(name: "rift-test-leak") { waiter in
                while waiter.wait(for: [], timeoutMilliseconds: 1_000) != nil {}
            }
            thread.stop()
        }
        // Two pipe ends a round would leak 80; other suites running in parallel open a few at most.
        #expect(try openDescriptors() - before < rounds, "no wake-up pipe left open")
    }

    @Test("a thread freed without stop is stopped by its deinit")
    func deinitStops() throws {
        let returned = Atomic<Bool>(false)
        do {
            _ = try PollingThread(name: "rift-test-drop") { waiter in
                while waiter.wait(for: [], timeoutMilliseconds: -1) != nil {}
                returned.store(true, ordering: .releasing)
            }
        }
        let returnedAfterDeinit = returned.load(ordering: .acquiring)
        #expect(returnedAfterDeinit)
    }
}
