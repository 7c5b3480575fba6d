@testable import RiftAgent
import RiftTestSupport
import Testing

@Suite("Runtime inbox")
struct EventInboxTests {
    func name(_ event: RuntimeEvent?) -> String {
        switch event {
        case .stop(let reason)?: reason
        case .tick?: "tick"
        case nil: "none"
        default: "other"
        }
    }

    @Test("posted events come first and in order; timers only once due, earliest first, ties in the order set")
    func order() {
        let inbox = EventInbox()
        inbox.post(.stop(reason: "late"), at: 300)
        inbox.post(.stop(reason: "early"), at: 100)
        inbox.post(.stop(reason: "early too"), at: 100)
        inbox.post(.stop(reason: "first"))
        inbox.post(.stop(reason: "second"))
        #expect(name(inbox.take(now: 0)) == "first")
        #expect(name(inbox.take(now: 0)) == "second")
        #expect(name(inbox.take(now: 99)) == "none")
        #expect(name(inbox.take(now: 1_000)) == "early")
        #expect(name(inbox.take(now: 1_000)) == "early too")
        #expect(name(inbox.take(now: 1_000)) == "late")
        #expect(name(inbox.take(now: 1_000)) == "none")
    }

    @Test("a closed inbox drops what it held and refuses new events; waiting returns at once")
    func closed() {
        let inbox = EventInbox()
        inbox.post(.tick)
        inbox.close()
        inbox.post(.tick)
        inbox.post(.tick, at: 0)
        #expect(name(inbox.take(now: 10)) == "none")
        inbox.waitForWork(clock: ManualClock(), limit: 60_000)  // would hang for a minute if it waited
    }
}
