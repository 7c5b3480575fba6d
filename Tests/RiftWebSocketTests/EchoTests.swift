import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite("server and client exchange messages")
    struct EchoTests {
        @Test("a message is echoed and the upgrade request reaches the handler")
        func echoRoundTrip() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort, path: "/v1/signal?network=home") {
                $0.headers = [(name: "Authorization", value: "Bearer secret-token")]
            }
            probe.client.send("hello")  // queued until the handshake completes
            try await probe.waitConnected()
            let endpoints = try #require(probe.client.endpoints)
            #expect(endpoints.localAddress == "127.0.0.1" && endpoints.remoteAddress == "127.0.0.1")
            #expect(endpoints.remotePort == UInt16(server.boundPort))
            #expect(try await probe.waitTexts(1) == ["hello"])

            let (id, request) = try #require(handler.opened.first)
            #expect(request.path == "/v1/signal")
            #expect(request.authorization == "Bearer secret-token")
            #expect(request.host == "127.0.0.1:\(server.boundPort)")
            #expect(request.remoteAddress == "127.0.0.1")
            #expect(!request.description.contains("secret-token"))
            var dumped = ""
            dump(request, to: &dumped)
            #expect(!dumped.contains("secret-token") && dumped.contains("/v1/signal"))
            #expect(handler.received(on: id) == ["hello"])

            probe.client.close()
            let closed = try await probe.waitClosed()
            #expect(closed.code == 1000)
            try await waitUntil("the server to see the close") { handler.closedIDs == [id] }
        }

        @Test("many messages arrive complete and in order, both ways")
        func manyMessagesInOrder() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort)
            try await probe.waitConnected()
            let sent = (0..<500).map { "message \($0) " + String(repeating: "x", count: $0 % 97) }
            for text in sent { probe.client.send(text) }
            #expect(try await probe.waitTexts(sent.count, timeout: .seconds(10)) == sent)
            #expect(handler.received(on: try #require(handler.openedIDs.first)) == sent)
        }

        @Test("a message longer than the receive buffer is reassembled")
        func messageLargerThanReceiveBuffer() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.receiveBufferBytes = 1_024 }
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort)
            try await probe.waitConnected()
            let large = String((0..<60_000).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) }) + "é✓"
            probe.client.send(large)
            #expect(try await probe.waitTexts(1) == [large])
        }

        @Test("the client closes with 1009 when the server sends more than it accepts")
        func clientRefusesOversizedMessage() async throws {
            let handler = RecordingHandler(echoes: false)
            let server = try startServer(handler)
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort) { $0.maximumMessageBytes = 1_000 }
            try await probe.waitConnected()
            let id = try #require(handler.openedIDs.first)
            server.send(String(repeating: "y", count: 2_000), to: id)
            let closed = try await probe.waitClosed()
            #expect(closed.code == 1009)
            #expect(probe.texts.isEmpty)
            try await waitUntil("the server to see the close") { handler.closedIDs == [id] }
        }

        @Test("a matching subprotocol is accepted, another one refused")
        func subprotocolNegotiation() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.subprotocol = "riftgate.v1" }
            defer { server.shutdown() }
            let matching = try ClientProbe(port: server.boundPort) { $0.subprotocol = "riftgate.v1" }
            try await matching.waitConnected()
            let plain = try ClientProbe(port: server.boundPort)
            try await plain.waitConnected()
            let other = try ClientProbe(port: server.boundPort) { $0.subprotocol = "something-else" }
            let refused = try await other.waitClosed()
            #expect(refused.code == nil)
            #expect(!other.events.contains(.connected))
        }

        @Test("a few hundred clients are served at once")
        func manyConcurrentClients() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let probes = try (0..<300).map { _ in try ClientProbe(port: server.boundPort) }
            for (index, probe) in probes.enumerated() {
                try await probe.waitConnected(timeout: .seconds(10))
                probe.client.send("client \(index)")
            }
            for (index, probe) in probes.enumerated() {
                #expect(try await probe.waitTexts(1, timeout: .seconds(10)) == ["client \(index)"])
            }
            #expect(Set(handler.openedIDs).count == 300)
            for probe in probes { probe.client.close() }
            for probe in probes { try await probe.waitClosed(timeout: .seconds(10)) }
            try await waitUntil("the server to see 300 closes", timeout: .seconds(10)) { handler.closedIDs.count == 300 }
        }
    }
}
