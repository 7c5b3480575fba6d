@testable import RiftNice
import RiftSupport
import Testing

@Suite("Batched send and receive flush", .serialized)
struct BatchTests {
    @Test("a batch of datagrams arrives whole and in order, and every received datagram is followed by a flush")
    func batchSendAndFlush() async throws {
        let loop = ICEEventLoop(name: "nice-test-batch")
        defer { loop.shutdown() }
        let pair = try await SessionPair.connected(on: loop)
        defer { pair.close() }

        let probe = FlushProbe()
        pair.controlled.setReceiveHandler(probe.receive, flush: probe.flush)
        let payloads: [[UInt8]] = (0..<8).map { index in [UInt8](repeating: UInt8(index), count: 100 + index) }
        let accepted = withBatch(payloads) { pair.controlling.send(batch: $0) }
        #expect(accepted == payloads.count)
        #expect(await eventually { probe.snapshot.received.count == payloads.count })
        // The flush for the last iteration runs after its datagrams, on the same thread, so it follows soon after.
        #expect(await eventually { probe.snapshot.receivedAtLastFlush == payloads.count })
        let seen = probe.snapshot
        #expect(seen.received == payloads)
        #expect(seen.flushes >= 1 && seen.flushes <= payloads.count)
        #expect(seen.receivesWithoutFlush == 0, "a flush between datagrams saw nothing new")

        #expect(withBatch([]) { pair.controlling.send(batch: $0) } == 0)
    }

    @Test("no pair selected: a batch is refused whole")
    func batchWithoutPair() throws {
        let loop = ICEEventLoop(name: "nice-test-batch-none")
        defer { loop.shutdown() }
        let pair = try SessionPair(loop: loop)
        defer { pair.close() }
        #expect(withBatch([[1, 2, 3], [4, 5]]) { pair.controlling.send(batch: $0) } == 0)
    }
}

/// Calls `body` with `payloads` as a buffer of datagram views (valid only during the call).
private func withBatch(_ payloads: [[UInt8]], _ body: (UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int) -> Int {
    let joined = payloads.flatMap { $0 }
    return joined.withUnsafeBytes { all in
        var offset = 0
        let views = payloads.map { payload -> UnsafeRawBufferPointer in
            defer { offset += payload.count }
            return UnsafeRawBufferPointer(rebasing: all[offset..<(offset + payload.count)])
        }
        return views.withUnsafeBufferPointer(body)
    }
}

/// Records what a receive handler and its flush see.
private final class FlushProbe: Sendable {
    struct Seen: Sendable {
        var received: [[UInt8]] = []
        var flushes = 0
        var receivedAtLastFlush = 0
        /// Flushes that found no datagram received since the previous one (a flush must follow receipt).
        var receivesWithoutFlush = 0
    }

    private let seen = Locked(Seen())

    var receive: @Sendable (UnsafeRawBufferPointer) -> Void {
        { [self] bytes in seen.withLock { $0.received.append(Array(bytes)) } }
    }

    var flush: @Sendable () -> Void {
        { [self] in
            seen.withLock { seen in
                if seen.received.count == seen.receivedAtLastFlush { seen.receivesWithoutFlush += 1 }
                seen.flushes += 1
                seen.receivedAtLastFlush = seen.received.count
            }
        }
    }

    var snapshot: Seen { seen.withLock { $0 } }
}
