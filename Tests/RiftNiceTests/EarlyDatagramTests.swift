@testable import RiftNice
import RiftSupport
import Testing

@Suite("Datagrams that arrive before the receive handler", .serialized)
struct EarlyDatagramTests {
    @Test("what the peer sent before there was a handler reaches the first handler, in order, followed by a flush")
    func heldForTheFirstHandler() async throws {
        let loop = ICEEventLoop(name: "nice-test-early")
        defer { loop.shutdown() }
        let pair = try await SessionPair.connected(on: loop)
        defer { pair.close() }

        let early: [[UInt8]] = (0..<3).map { index in [UInt8](repeating: UInt8(index + 1), count: 148) }
        for payload in early { #expect(payload.withUnsafeBytes { pair.controlling.send($0) }) }
        #expect(await eventually { pair.controlled.earlyDatagrams.held == early.count }, "held until a handler is set")

        let received = ReceivedDatagrams()
        let flushes = Locked(0)
        pair.controlled.setReceiveHandler(received.keeping, flush: { flushes.withLock { $0 += 1 } })
        #expect(received.all == early, "delivered in order by setReceiveHandler")
        #expect(await eventually { flushes.withLock { $0 } >= 1 }, "and flushed")
        #expect(pair.controlled.earlyDatagrams.held == 0)

        // From now on datagrams go straight to the handler; a later handler gets nothing again.
        let later: [UInt8] = [9, 9, 9]
        #expect(later.withUnsafeBytes { pair.controlling.send($0) })
        #expect(await eventually { received.all.count == early.count + 1 })
        let second = ReceivedDatagrams()
        pair.controlled.setReceiveHandler(second.keeping)
        #expect(second.all.isEmpty)
    }

    @Test("only the first few datagrams are held; the rest are counted as dropped")
    func bounded() async throws {
        let loop = ICEEventLoop(name: "nice-test-early-bound")
        defer { loop.shutdown() }
        let pair = try await SessionPair.connected(on: loop)
        defer { pair.close() }

        let sent = EarlyDatagrams.capacity + 3
        for index in 0..<sent { #expect([UInt8(index)].withUnsafeBytes { pair.controlling.send($0) }) }
        let oversized = [UInt8](repeating: 7, count: EarlyDatagrams.largest + 1)
        #expect(oversized.withUnsafeBytes { pair.controlling.send($0) })
        #expect(await eventually {
            pair.controlled.earlyDatagrams == (held: EarlyDatagrams.capacity, dropped: sent - EarlyDatagrams.capacity + 1)
        })
        let received = ReceivedDatagrams()
        pair.controlled.setReceiveHandler(received.keeping)
        #expect(received.all == (0..<EarlyDatagrams.capacity).map { [UInt8($0)] }, "the oldest are kept")
    }
}
