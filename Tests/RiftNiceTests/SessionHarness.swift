@testable import RiftNice
import RiftSupport
import Synchronization
import Testing

/// Records every event of one session, in order, from a single consumer task.
final class EventLog: Sendable {
    private let state = Locked<(events: [ICEEvent], ended: Bool)>(([], false))

    init(following stream: AsyncStream<ICEEvent>) {
        Task { [self] in
            for await event in stream { self.state.withLock { $0.events.append(event) } }
            self.state.withLock { $0.ended = true }
        }
    }

    var events: [ICEEvent] { state.withLock { $0.events } }
    var count: Int { state.withLock { $0.events.count } }
    /// Whether the stream has finished.
    var ended: Bool { state.withLock { $0.ended } }

    func candidates(since mark: Int = 0) -> [String] {
        events.dropFirst(mark).compactMap { if case .localCandidate(let line) = $0 { line } else { nil } }
    }

    func contains(_ wanted: ICEEvent, since mark: Int = 0) -> Bool { events.dropFirst(mark).contains(wanted) }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Collects what a session receives.
final class ReceivedDatagrams: Sendable {
    private let datagrams = Locked<[[UInt8]]>([])
    private let counter = Atomic<Int>(0)

    /// A handler that keeps a copy of every datagram (for small tests).
    var keeping: @Sendable (UnsafeRawBufferPointer) -> Void {
        { [self] bytes in self.datagrams.withLock { $0.append(Array(bytes)) } }
    }

    /// A handler that only counts datagrams of `size` bytes (for the hot path: no allocation).
    func counting(size: Int) -> @Sendable (UnsafeRawBufferPointer) -> Void {
        { [self] bytes in if bytes.count == size { self.counter.add(1, ordering: .relaxed) } }
    }

    var all: [[UInt8]] { datagrams.withLock { $0 } }
    var count: Int { counter.load(ordering: .relaxed) }
}

/// Two sessions on one loop, one controlling and one controlled, with their event logs.
struct SessionPair {
    let controlling: ICESession
    let controlled: ICESession
    let controllingLog: EventLog
    let controlledLog: EventLog

    init(loop: ICEEventLoop, configure: (inout ICESessionConfiguration) -> Void = { _ in }) throws {
        var first = ICESessionConfiguration(controlling: true, localAddresses: ["127.0.0.1"])
        var second = ICESessionConfiguration(controlling: false, localAddresses: ["127.0.0.1"])
        configure(&first)
        configure(&second)
        controlling = try ICESession(loop: loop, configuration: first)
        controlled = try ICESession(loop: loop, configuration: second)
        controllingLog = EventLog(following: controlling.events)
        controlledLog = EventLog(following: controlled.events)
    }

    /// A pair on `loop` that has gathered and connected (`connect()`: both sides `ready`); the caller closes it.
    static func connected(on loop: ICEEventLoop) async throws -> SessionPair {
        let pair = try SessionPair(loop: loop)
        do {
            try pair.controlling.startGathering()
            try pair.controlled.startGathering()
            try await pair.connect()
        } catch {
            pair.close()
            throw error
        }
        return pair
    }

    /// Event counts now, to look only at what happens after (for example after a restart).
    var marks: (controlling: Int, controlled: Int) { (controllingLog.count, controlledLog.count) }

    /// Waits for both sides to finish gathering, then exchanges credentials and candidates through the test,
    /// giving the controlled side the controlling side's candidates *before* its credentials (they must be
    /// held, not dropped), and waits until both are `ready`. With `controllingLearnsCandidates` false the
    /// controlling side gets credentials only, so only the controlled side can start checks.
    func connect(
        since marks: (controlling: Int, controlled: Int) = (0, 0), controllingLearnsCandidates: Bool = true,
        timeout: Duration = .seconds(10)
    ) async throws {
        let gathered = await eventually(within: timeout) {
            controllingLog.contains(.gatheringDone, since: marks.controlling)
                && controlledLog.contains(.gatheringDone, since: marks.controlled)
        }
        try #require(gathered, "both sides finish gathering")
        let controllingCandidates = controllingLog.candidates(since: marks.controlling)
        let controlledCandidates = controlledLog.candidates(since: marks.controlled)
        try #require(!controllingCandidates.isEmpty && !controlledCandidates.isEmpty, "both sides gathered candidates")

        for line in controllingCandidates { try controlled.addRemoteCandidate(line) }
        controlled.remoteGatheringDone()
        let controlledCredentials = controlled.localCredentials
        try controlling.setRemoteCredentials(ufrag: controlledCredentials.ufrag, pwd: controlledCredentials.pwd)
        if controllingLearnsCandidates {
            for line in controlledCandidates { try controlling.addRemoteCandidate(line) }
        }
        controlling.remoteGatheringDone()
        let controllingCredentials = controlling.localCredentials
        try controlled.setRemoteCredentials(ufrag: controllingCredentials.ufrag, pwd: controllingCredentials.pwd)

        let ready = await eventually(within: timeout) {
            controllingLog.contains(.stateChanged(.ready), since: marks.controlling)
                && controlledLog.contains(.stateChanged(.ready), since: marks.controlled)
        }
        try #require(ready, "both sides reach ready; controlling saw \(controllingLog.events), controlled saw \(controlledLog.events)")
    }

    /// Sends `payload` each way and checks it arrives intact.
    func expectDatagramsBothWays(_ payload: [UInt8], timeout: Duration = .seconds(5)) async {
        let atControlled = ReceivedDatagrams()
        let atControlling = ReceivedDatagrams()
        controlled.setReceiveHandler(atControlled.keeping)
        controlling.setReceiveHandler(atControlling.keeping)
        #expect(payload.withUnsafeBytes { controlling.send($0) }, "send controlling -> controlled")
        #expect(payload.withUnsafeBytes { controlled.send($0) }, "send controlled -> controlling")
        #expect(await eventually(within: timeout) { atControlled.all.contains(payload) }, "arrives at controlled")
        #expect(await eventually(within: timeout) { atControlling.all.contains(payload) }, "arrives at controlling")
    }

    func close() {
        controlling.close()
        controlled.close()
    }
}

/// The number of agents of `loop` not yet freed by GLib.
func liveAgents(on loop: ICEEventLoop) throws -> Int {
    let core = loop.core
    return try core.performAndWait { core.liveAgentCount }
}
