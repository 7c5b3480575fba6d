import RiftWebSocket
import Testing

extension LoopbackTests {
    /// A message for a connection with nothing queued is written at once; once the kernel takes only part of one, lws
    /// keeps the rest and later messages wait in the queue behind it. The frames must still arrive whole and in order.
    @Suite("messages written at once and queued ones keep their order")
    struct WriteAtOnceTests {
        @Test("a burst larger than the socket takes arrives complete and in order")
        func burstBeyondTheSocketBuffer() async throws {
            let handler = RecordingHandler(echoes: false)
            let server = try startServer(handler) {
                $0.maximumQueuedBytesPerConnection = 32 << 20
                $0.maximumQueuedMessagesPerConnection = 1_024
            }
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort)
            try await probe.waitConnected()
            try await waitUntil("the connection to open") { handler.openedIDs.count == 1 }
            let id = handler.openedIDs[0]
            // Sizes that do not divide the socket buffer, so a partial write ends inside a frame (~14 MB in all).
            let burst = (0..<600).map { "burst \($0) " + String(repeating: Character(UnicodeScalar(97 + $0 % 26)!), count: 16_000 + ($0 * 7_919) % 30_000) }
            for text in burst { server.send(text, to: id) }
            let received = try await probe.waitTexts(burst.count, timeout: .seconds(30))
            #expect(received.count == burst.count)
            let firstDifference = received.indices.first { received[$0] != burst[$0] }  // not the 14 MB in a failure report
            #expect(firstDifference == nil)
            // The connection is still usable both ways afterwards.
            probe.client.send("after")
            try await waitUntil("the handler to receive the message after the burst") { handler.received(on: id) == ["after"] }
            server.send("last", to: id)
            #expect(try await probe.waitTexts(burst.count + 1, timeout: .seconds(10)).last == "last")
        }
    }
}
