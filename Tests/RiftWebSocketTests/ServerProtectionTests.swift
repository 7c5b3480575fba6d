import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite("the server reassembles fragments and protects itself")
    struct ServerProtectionTests {
        @Test("a message split into fragments is delivered whole")
        func fragmentsReassembled() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let peer = try RawWebSocketPeer(port: server.boundPort, extraHeaders: "X-Forwarded-For: 203.0.113.7\r\n")
            try peer.sendText("hel", final: false)
            try peer.sendContinuation("lo ", final: false)
            try peer.sendContinuation("wörld", final: true)
            try peer.sendText("next")
            try await waitUntil("two messages") { handler.events.filter { if case .received = $0 { true } else { false } }.count == 2 }
            let id = try #require(handler.openedIDs.first)
            #expect(handler.received(on: id) == ["hello wörld", "next"])
            #expect(handler.opened.first?.1.forwardedFor == "203.0.113.7")
            #expect(handler.opened.first?.1.authorization == nil)
        }

        @Test("an oversized message gets the handler's reply, then a 1009 close; others are still served")
        func oversizedMessageClosesOnlyThatConnection() async throws {
            let handler = RecordingHandler(oversizedReply: "error: message too big")
            let server = try startServer(handler) { $0.maximumMessageBytes = 1_024 }
            defer { server.shutdown() }
            let bystander = try ClientProbe(port: server.boundPort)
            try await bystander.waitConnected()
            let offender = try ClientProbe(port: server.boundPort)
            try await offender.waitConnected()

            offender.client.send(String(repeating: "z", count: 1_025))
            let closed = try await offender.waitClosed()
            #expect(closed.code == 1009)
            #expect(offender.texts == ["error: message too big"])
            let offenderID = try #require(handler.openedIDs.last)
            #expect(handler.events.contains(.oversized(offenderID)))
            try await waitUntil("the server to drop the offender") { handler.closedIDs == [offenderID] }

            bystander.client.send(String(repeating: "a", count: 1_024))
            #expect(try await bystander.waitTexts(1) == [String(repeating: "a", count: 1_024)])
        }

        @Test("small fragments adding up to too much are refused too")
        func fragmentedOversizedMessage() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.maximumMessageBytes = 1_000 }
            defer { server.shutdown() }
            let peer = try RawWebSocketPeer(port: server.boundPort)
            try peer.sendText(String(repeating: "a", count: 600), final: false)
            try peer.sendContinuation(String(repeating: "b", count: 600), final: true)
            #expect(try peer.receiveCloseCode() == 1009)
            try await waitUntil("the oversized report") { handler.events.contains { if case .oversized = $0 { true } else { false } } }
            #expect(handler.events.allSatisfy { if case .received = $0 { false } else { true } })
        }

        @Test("a binary message is refused with 1003")
        func binaryMessageRefused() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let peer = try RawWebSocketPeer(port: server.boundPort)
            try peer.sendFrame(opcode: 2, payload: [1, 2, 3], final: true)
            #expect(try peer.receiveCloseCode() == 1003)
            try await waitUntil("the server to drop the connection") { handler.closedIDs.count == 1 }
        }

        /// The hub's proportions (defaults 20 s / 60 s, tests 1 s / 3 s) have pongTimeout > 2 × pingInterval: the re-pings
        /// sent while a peer stays silent must not postpone its drop.
        @Test("a client that completes the handshake and then stays silent is dropped by the heartbeat",
              arguments: [2, 3])
        func silentClientDropped(pongTimeoutSeconds: Int) async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) {
                $0.pingInterval = .seconds(1)
                $0.pongTimeout = .seconds(pongTimeoutSeconds)
            }
            defer { server.shutdown() }
            // Pings both ways: the server's are answered by the client, the client's by the server.
            let lively = try ClientProbe(port: server.boundPort) {
                $0.pingInterval = .seconds(1)
                $0.pongTimeout = .seconds(2)
            }
            try await lively.waitConnected()
            let clock = ContinuousClock()
            let start = clock.now
            let silent = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("both connections to open") { handler.openedIDs.count == 2 }
            let silentID = handler.openedIDs[1]

            try await waitUntil("the silent client to be dropped", timeout: .seconds(15)) { handler.closedIDs.contains(silentID) }
            let elapsed = clock.now - start
            #expect(elapsed >= .milliseconds(pongTimeoutSeconds * 1_000 - 500), "dropped before the pong timeout: \(elapsed)")
            #expect(elapsed <= .seconds(12), "dropped too late: \(elapsed)")
            #expect(try silent.socket.waitForEnd(timeout: .seconds(2)))
            // The client that answers pings outlives several pong timeouts, and is still served.
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(handler.closedIDs == [silentID])
            #expect(lively.closed == nil)
            lively.client.send("still here")
            #expect(try await lively.waitTexts(1) == ["still here"])
        }

        @Test("a client that stops reading overflows its queue and is closed with 1008")
        func slowReaderOverflowsQueue() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.maximumQueuedBytesPerConnection = 256 << 10 }
            defer { server.shutdown() }
            let reader = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("the connection to open") { handler.openedIDs.count == 1 }
            let id = handler.openedIDs[0]
            let chunk = String(repeating: "q", count: 64 << 10)
            for _ in 0..<600 {
                server.send(chunk, to: id)
                if handler.events.contains(.overflowed(id)) { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            try await waitUntil("the overflow report", timeout: .seconds(10)) { handler.events.contains(.overflowed(id)) }
            try await waitUntil("the connection to close", timeout: .seconds(10)) { handler.closedIDs == [id] }
            _ = reader
        }
    }
}
