@testable import RiftNice
import RiftSupport
import Testing

@Suite("ICEEventLoop: one thread, ordered work, clean shutdown")
struct EventLoopTests {
    @Test("work runs on the loop thread, in submission order, and nested waits run inline")
    func orderedWorkOnLoopThread() throws {
        let loop = ICEEventLoop(name: "nice-test-loop")
        defer { loop.shutdown() }
        #expect(!loop.isCurrentThread)
        let core = loop.core
        #expect(try core.performAndWait { loop.isCurrentThread })
        let nested = try core.performAndWait { () throws(ICEError) -> Int in try core.performAndWait { 41 } + 1 }
        #expect(nested == 42, "no deadlock when nested")

        let order = Locked<[Int]>([])
        for index in 0..<500 {
            let queued = core.submit { order.withLock { list in list.append(index) } }
            #expect(queued)
        }
        try core.performAndWait {}  // queued after the 500, so they have all run
        #expect(order.withLock { $0 } == Array(0..<500))
    }

    @Test("after shutdown nothing runs and sessions cannot be created; shutdown is idempotent")
    func shutdownStopsEverything() throws {
        let loop = ICEEventLoop(name: "nice-test-stop")
        loop.shutdown()
        loop.shutdown()
        #expect(loop.core.submit {} == false)
        let error = #expect(throws: ICEError.self) { try loop.core.performAndWait { 1 } }
        #expect(error?.code == .loopStopped)
        let sessionError = #expect(throws: ICEError.self) {
            _ = try ICESession(loop: loop, configuration: ICESessionConfiguration(controlling: true))
        }
        #expect(sessionError?.code == .loopStopped)
    }

    @Test("shutdown closes open sessions: their events end and later calls fail")
    func shutdownClosesSessions() async throws {
        let loop = ICEEventLoop(name: "nice-test-close")
        let session = try ICESession(
            loop: loop, configuration: ICESessionConfiguration(controlling: true, localAddresses: ["127.0.0.1"]))
        let log = EventLog(following: session.events)
        try session.startGathering()
        #expect(await eventually { log.contains(.gatheringDone) })
        loop.shutdown()
        #expect(await eventually { log.ended })
        #expect(throws: ICEError.self) { try session.restart() }
        session.close()
    }

    @Test("bad local addresses and unresolvable servers are refused before an agent exists")
    func badConfiguration() {
        let loop = ICEEventLoop(name: "nice-test-config")
        defer { loop.shutdown() }
        let badAddress = #expect(throws: ICEError.self) {
            _ = try ICESession(loop: loop, configuration: ICESessionConfiguration(controlling: true, localAddresses: ["eth0"]))
        }
        #expect(badAddress?.code == .invalidConfiguration)
        let servers = ICEServerConfiguration(stun: ("no-such-host.invalid", 3478))
        let badServer = #expect(throws: ICEError.self) {
            _ = try ICESession(loop: loop, configuration: ICESessionConfiguration(controlling: true, servers: servers))
        }
        #expect(badServer?.code == .serverResolutionFailed)
    }

    @Test("malformed remote input is refused with a typed error")
    func malformedRemoteInput() throws {
        let loop = ICEEventLoop(name: "nice-test-input")
        defer { loop.shutdown() }
        let session = try ICESession(loop: loop, configuration: ICESessionConfiguration(controlling: false, localAddresses: ["127.0.0.1"]))
        defer { session.close() }
        let garbage = #expect(throws: ICEError.self) { try session.addRemoteCandidate("candidate:garbage") }
        #expect(garbage?.code == .invalidCandidate)
        let tcp = #expect(throws: ICEError.self) {
            try session.addRemoteCandidate("candidate:1 1 TCP 2015363327 127.0.0.1 9 typ host tcptype active")
        }
        #expect(tcp?.code == .invalidCandidate)
        let credentials = #expect(throws: ICEError.self) { try session.setRemoteCredentials(ufrag: "a", pwd: "b") }
        #expect(credentials?.code == .invalidCredentials)
        #expect(throws: Never.self) { try session.addRemoteCandidate("a=candidate:1 1 UDP 2015363327 127.0.0.1 9 typ host") }
    }
}
