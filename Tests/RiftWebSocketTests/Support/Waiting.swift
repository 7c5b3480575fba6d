import RiftSupport

/// A wait in a test that ran out of time; thrown so that the test fails with what it waited for.
struct TestTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every 10 ms until it holds; throws `TestTimeout` after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        if clock.now >= deadline { throw TestTimeout(description: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A list that several threads append to and tests read; a class so closures can share it.
final class SharedLog<Element: Sendable>: Sendable {
    private let entries = Locked<[Element]>([])

    func append(_ element: Element) {
        entries.withLock { $0.append(element) }
    }

    var all: [Element] { entries.withLock { $0 } }
}
