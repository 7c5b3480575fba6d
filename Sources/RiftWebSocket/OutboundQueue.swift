/// The messages waiting to be written to one connection, bounded in count and bytes so that a
/// peer that stops reading cannot make the process grow without bound.
///
/// An empty queue owns no storage, which keeps idle connections small.
struct OutboundQueue {
    /// The most messages the queue holds.
    let maximumMessages: Int
    /// The most UTF-8 bytes the queue holds, all messages together.
    let maximumBytes: Int

    private var messages: [String] = []
    /// Index of the next message to write; consumed slots are reclaimed when the queue empties.
    private var head = 0
    /// The UTF-8 bytes of all queued messages.
    private(set) var byteCount = 0

    init(maximumMessages: Int, maximumBytes: Int) {
        self.maximumMessages = maximumMessages
        self.maximumBytes = maximumBytes
    }

    var isEmpty: Bool { head == messages.count }
    var count: Int { messages.count - head }

    /// Queues `text`; returns false, leaving the queue unchanged, when that would exceed a limit.
    mutating func append(_ text: String) -> Bool {
        let size = text.utf8.count
        guard count < maximumMessages, size <= maximumBytes - byteCount else { return false }
        messages.append(text)
        byteCount += size
        return true
    }

    /// The next message to write, without removing it.
    var first: String? { isEmpty ? nil : messages[head] }

    /// Removes and returns the next message to write.
    mutating func popFirst() -> String? {
        guard !isEmpty else { return nil }
        let text = messages[head]
        head += 1
        byteCount -= text.utf8.count
        if isEmpty {
            removeAll()
        } else if head >= 64 && head * 2 >= messages.count {
            messages.removeFirst(head)
            head = 0
        }
        return text
    }

    /// Drops every queued message and releases the storage.
    mutating func removeAll() {
        messages = []
        head = 0
        byteCount = 0
    }
}
