@testable import RiftWebSocket
import Testing

@Suite("OutboundQueue bounds what waits for a slow peer")
struct OutboundQueueTests {
    /// Appends each text, returning which were accepted.
    private func append(_ texts: String..., to queue: inout OutboundQueue) -> [Bool] {
        texts.map { queue.append($0) }
    }

    @Test("messages come out in order and the byte count follows")
    func fifo() {
        var queue = OutboundQueue(maximumMessages: 10, maximumBytes: 100)
        let accepted = append("one", "two", "thrée", to: &queue)
        #expect(accepted == [true, true, true])
        #expect(queue.byteCount == 3 + 3 + 6)
        let first = queue.popFirst()
        let peeked = queue.first
        let rest = [queue.popFirst(), queue.popFirst(), queue.popFirst()]
        #expect(first == "one")
        #expect(peeked == "two")
        #expect(rest == ["two", "thrée", nil])
        #expect(queue.isEmpty && queue.byteCount == 0)
    }

    @Test("the message limit refuses one more message and leaves the queue intact")
    func messageLimit() {
        var queue = OutboundQueue(maximumMessages: 2, maximumBytes: 100)
        let accepted = append("a", "b", "c", to: &queue)
        #expect(accepted == [true, true, false])
        #expect(queue.count == 2)
        _ = queue.popFirst()
        let again = append("c", to: &queue)
        #expect(again == [true])
    }

    @Test("the byte limit counts UTF-8 bytes, and a full-size message fits an empty queue")
    func byteLimit() {
        var queue = OutboundQueue(maximumMessages: 10, maximumBytes: 8)
        let full = append("12345678", "x", to: &queue)
        #expect(full == [true, false])
        _ = queue.popFirst()
        let accented = append("ééé", "éé", "é", String(repeating: "z", count: 9), to: &queue)
        #expect(accented == [true, false, true, false])
        #expect(queue.byteCount == 8)
    }

    @Test("long use keeps the order while consumed slots are reclaimed")
    func longUse() {
        var queue = OutboundQueue(maximumMessages: 1_000, maximumBytes: 1 << 20)
        var expected: [String] = []
        var received: [String] = []
        var refused = 0
        for round in 0..<50 {
            for index in 0..<(round % 7 + 60) {
                let text = "\(round)-\(index)"
                if queue.append(text) { expected.append(text) } else { refused += 1 }
            }
            for _ in 0..<(round % 5 + 55) {
                if let text = queue.popFirst() { received.append(text) }
            }
        }
        while let text = queue.popFirst() { received.append(text) }
        #expect(refused == 0)
        #expect(received == expected)
    }

    @Test("removeAll empties the queue")
    func removeAll() {
        var queue = OutboundQueue(maximumMessages: 3, maximumBytes: 30)
        _ = append("a", "b", to: &queue)
        queue.removeAll()
        #expect(queue.isEmpty && queue.count == 0 && queue.byteCount == 0)
        let refilled = append("c", "d", "e", to: &queue)
        #expect(refilled == [true, true, true])
    }
}
