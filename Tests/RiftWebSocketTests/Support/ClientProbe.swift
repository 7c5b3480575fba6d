import RiftWebSocket

/// A connected-or-connecting `WebSocketClient` whose events are collected for the test to read.
final class ClientProbe: Sendable {
    let client: WebSocketClient
    private let log = SharedLog<WebSocketClientEvent>()
    private let consumer: Task<Void, Never>

    /// Creates the client for `url`, starts collecting its events and connects.
    init(_ url: String, _ configure: (inout WebSocketClientConfiguration) -> Void = { _ in }) throws {
        var configuration = WebSocketClientConfiguration(url: url)
        configure(&configuration)
        client = try WebSocketClient(configuration: configuration)
        let events = client.events
        let log = self.log
        consumer = Task {
            for await event in events { log.append(event) }
        }
        client.connect()
    }

    convenience init(port: UInt16, path: String = "/", _ configure: (inout WebSocketClientConfiguration) -> Void = { _ in }) throws {
        try self.init("ws://127.0.0.1:\(port)\(path)", configure)
    }

    var events: [WebSocketClientEvent] { log.all }
    var texts: [String] {
        events.compactMap { if case .text(let text) = $0 { text } else { nil } }
    }
    var closed: (code: UInt16?, reason: String)? {
        for case .closed(let code, let reason) in events { return (code, reason) }
        return nil
    }

    func waitConnected(timeout: Duration = .seconds(5)) async throws {
        try await waitUntil("the client to connect or close", timeout: timeout) {
            events.contains(.connected) || closed != nil
        }
        if let closed { throw TestTimeout(description: "the client closed instead of connecting: \(closed.reason)") }
    }

    @discardableResult
    func waitClosed(timeout: Duration = .seconds(5)) async throws -> (code: UInt16?, reason: String) {
        try await waitUntil("the client to close", timeout: timeout) { closed != nil }
        await consumer.value
        return closed!
    }

    func waitTexts(_ count: Int, timeout: Duration = .seconds(5)) async throws -> [String] {
        try await waitUntil("\(count) messages at the client", timeout: timeout) { texts.count >= count || closed != nil }
        return texts
    }
}
