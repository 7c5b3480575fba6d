@testable import RiftNice
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Two sessions on loopback", .serialized)
struct ConnectivityTests {
    @Test("candidates before credentials are held; both reach ready on a host pair; data flows; close is clean")
    func connectSendClose() async throws {
        let loop = ICEEventLoop(name: "nice-test-connect")
        defer { loop.shutdown() }
        let pair = try SessionPair(loop: loop)
        try pair.controlling.startGathering()
        try pair.controlled.startGathering()
        #expect(pair.controlling.localCredentials.ufrag != pair.controlled.localCredentials.ufrag)
        #expect([UInt8]([1, 2, 3]).withUnsafeBytes { pair.controlling.send($0) } == false, "no pair yet")

        try await pair.connect()

        let selected = try #require(pair.controlling.selectedPair)
        #expect(selected.local.type == .host && selected.remote.type == .host, "controlling pair: \(selected)")
        #expect(selected.local.address == "127.0.0.1" && selected.remote.address == "127.0.0.1")
        let controlledPair = try #require(pair.controlled.selectedPair)
        #expect(controlledPair.local.type == .host)
        #expect(controlledPair.remote.port == selected.local.port, "the two sides agree on the pair")
        #expect(pair.controllingLog.events.contains { if case .selectedPair = $0 { true } else { false } })
        for line in pair.controllingLog.candidates() { #expect(line.hasPrefix("candidate:") && line.contains("typ host")) }

        await pair.expectDatagramsBothWays((0..<1200).map { UInt8(truncatingIfNeeded: $0 &* 7) })

        pair.close()
        pair.close()  // idempotent
        #expect(await eventually { pair.controllingLog.ended && pair.controlledLog.ended }, "events streams end")
        #expect(pair.controlling.selectedPair == nil)
        #expect([UInt8]([1]).withUnsafeBytes { pair.controlling.send($0) } == false)
        #expect(throws: ICEError.self) { try pair.controlling.startGathering() }
        #expect(await eventually { (try? liveAgents(on: loop)) == 0 }, "GLib freed both agents")
    }

    @Test("candidates held until the credentials are applied: the controlled side alone can reach its peer")
    func heldCandidatesAreApplied() async throws {
        let loop = ICEEventLoop(name: "nice-test-held")
        defer { loop.shutdown() }
        let pair = try SessionPair(loop: loop)
        defer { pair.close() }
        try pair.controlling.startGathering()
        try pair.controlled.startGathering()
        // The controlling side never learns a candidate, so it cannot start a check: the pair forms only if
        // the controlled side applied the candidates it was given before the credentials.
        try await pair.connect(controllingLearnsCandidates: false)
        let controlledPair = try #require(pair.controlled.selectedPair)
        #expect(controlledPair.remote.type == .host, "the remote end came from a held candidate: \(controlledPair)")
        #expect(pair.controlling.selectedPair?.remote.type == .peerReflexive, "learned only from the checks")
        await pair.expectDatagramsBothWays(Array("held".utf8))
    }

    @Test("an ICE restart on a connected pair reconnects with new credentials and data flows again")
    func restartReconnects() async throws {
        let loop = ICEEventLoop(name: "nice-test-restart")
        defer { loop.shutdown() }
        let pair = try await SessionPair.connected(on: loop)
        defer { pair.close() }
        await pair.expectDatagramsBothWays(Array("before restart".utf8))

        let oldCredentials = (pair.controlling.localCredentials, pair.controlled.localCredentials)
        let marks = pair.marks
        try pair.controlling.restart()
        try pair.controlled.restart()
        #expect(pair.controlling.localCredentials != oldCredentials.0)
        #expect(pair.controlled.localCredentials != oldCredentials.1)
        #expect(pair.controlling.selectedPair == nil, "no pair until the new generation connects")

        try await pair.connect(since: marks)
        #expect(pair.controlling.selectedPair?.local.type == .host)
        await pair.expectDatagramsBothWays(Array("after restart".utf8))
    }

    @Test("hot path: 10,000 datagrams of 1,400 bytes through a connected pair")
    func hotPath() async throws {
        let loop = ICEEventLoop(name: "nice-test-hot")
        defer { loop.shutdown() }
        let pair = try await SessionPair.connected(on: loop)
        defer { pair.close() }

        let size = 1400
        let total = 10_000
        let window = 128  // in flight at most; keeps within even the default socket buffers
        let received = ReceivedDatagrams()
        pair.controlled.setReceiveHandler(received.counting(size: size))
        let payload = [UInt8](repeating: 0xA5, count: size)
        var accepted = 0
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started.advanced(by: .seconds(15))
        payload.withUnsafeBytes { bytes in
            for index in 0..<total {
                if index - received.count >= window, clock.now < deadline {
                    while index - received.count >= window / 2, clock.now < deadline { sleepBriefly() }
                }
                if pair.controlling.send(bytes) { accepted += 1 }
            }
        }
        _ = await eventually(within: .seconds(3)) { received.count >= accepted }
        let arrived = received.count
        print("hot path: \(arrived) of \(total) datagrams arrived (\(accepted) accepted by send) in \(clock.now - started)")
        #expect(arrived > total / 2)
    }
}

/// Yields the CPU to the loop thread for a moment without an async suspension point.
private func sleepBriefly() {
    var request = timespec(tv_sec: 0, tv_nsec: 100_000)
    _ = nanosleep(&request, nil)
}
