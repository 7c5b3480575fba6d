import RiftWebSocket
import Synchronization
import Testing

extension LoopbackTests {
    @Suite("server start, close, shutdown and plain HTTP")
    struct ServerLifecycleTests {
        @Test("close from the server writes the queued messages first")
        func closeFlushesQueue() async throws {
            let handler = RecordingHandler(echoes: false)
            let server = try startServer(handler)
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort)
            try await probe.waitConnected()
            let id = try #require(handler.openedIDs.first)
            let queued = (0..<300).map { "queued \($0) " + String(repeating: "p", count: 1_000) }
            for text in queued { server.send(text, to: id) }
            server.close(id, code: 4000, reason: "bye")
            server.send("after the close", to: id)

            let closed = try await probe.waitClosed()
            #expect(closed.code == 4000)
            #expect(closed.reason == "bye")
            #expect(probe.texts == queued)
            try await waitUntil("the server to see the close") { handler.closedIDs == [id] }
        }

        @Test("shutdown closes every client with 1001, tells the handler, and stops the thread")
        func shutdownClosesClientsAndJoins() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.tickInterval = .milliseconds(20) }
            let port = server.boundPort
            let probes = try (0..<3).map { _ in try ClientProbe(port: port) }
            for probe in probes { try await probe.waitConnected() }
            try await waitUntil("three connections and some ticks") {
                handler.openedIDs.count == 3 && handler.ticks.load(ordering: .relaxed) >= 2
            }

            let clock = ContinuousClock()
            let start = clock.now
            server.shutdown()
            #expect(clock.now - start < .seconds(10))
            // Joined: every close was reported before shutdown returned, and nothing runs after it.
            #expect(Set(handler.closedIDs) == Set(handler.openedIDs))
            #expect(handler.closedIDs.count == 3)
            let ticks = handler.ticks.load(ordering: .relaxed)
            for probe in probes {
                let closed = try await probe.waitClosed()
                #expect(closed.code == 1001)
                #expect(closed.reason == "server shutting down")
            }
            server.shutdown()  // idempotent
            server.send("ignored", to: handler.openedIDs[0])
            try await Task.sleep(for: .milliseconds(100))
            #expect(handler.ticks.load(ordering: .relaxed) == ticks)
            #expect(server.boundPort == 0)
            #expect(throws: RawSocket.Failure.self) { try RawSocket.connect(port: port) }
        }

        @Test("shutdown drops clients whose close cannot complete within the timeout")
        func shutdownTimeoutBounds() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.maximumQueuedBytesPerConnection = 64 << 20 }
            let stuck = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("the connection") { handler.openedIDs.count == 1 }
            // More than loopback socket buffers hold: the close waits behind data nobody reads.
            let chunk = String(repeating: "s", count: 1 << 20)
            for _ in 0..<48 { server.send(chunk, to: handler.openedIDs[0]) }
            try await Task.sleep(for: .milliseconds(200))
            let clock = ContinuousClock()
            let start = clock.now
            server.shutdown(timeout: .milliseconds(300))
            let elapsed = clock.now - start
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(10), "shutdown took \(elapsed)")
            #expect(handler.closedIDs == handler.openedIDs)
            #expect(handler.events.contains(.overflowed(handler.openedIDs[0])) == false)
            _ = stuck
        }

        @Test("a client that does not answer the close frame does not hold up shutdown")
        func shutdownWithSilentClient() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            let silent = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("the connection") { handler.openedIDs.count == 1 }
            let clock = ContinuousClock()
            let start = clock.now
            server.shutdown(timeout: .seconds(2))
            #expect(clock.now - start < .seconds(10))
            #expect(handler.closedIDs == handler.openedIDs)
            #expect(try silent.receiveCloseCode() == 1001)
        }

        @Test("plain HTTP GETs are answered by the handler, unknown paths with 404, other methods with 405")
        func plainHTTP() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler)
            defer { server.shutdown() }
            let health = try httpExchange(port: server.boundPort, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(health.hasPrefix("HTTP/1.1 200"))
            #expect(health.lowercased().contains("content-type: text/plain"))
            #expect(health.hasSuffix("\r\n\r\nok\n"))
            let missing = try httpExchange(port: server.boundPort, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404"))
            let post = try httpExchange(port: server.boundPort, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            #expect(post.hasPrefix("HTTP/1.1 405"))
            #expect(handler.openedIDs.isEmpty)
        }

        @Test("start fails with a clear reason when the port is taken or a file is unreadable")
        func startFailures() throws {
            let (taken, port) = try RawSocket.listen()
            defer { _ = taken }
            let error = #expect(throws: WebSocketError.self) {
                _ = try startServer(RecordingHandler()) { $0.port = port }
            }
            #expect(error?.reason.contains("Address already in use") == true)
            #expect(error?.reason.contains("\(port)") == true)
            #expect(error?.code == 98)

            let missing = #expect(throws: WebSocketError.self) {
                _ = try startServer(RecordingHandler()) {
                    $0.tls = TLSFiles(certificatePath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
                }
            }
            #expect(missing?.reason == "cannot read TLS certificate /nonexistent/cert.pem: No such file or directory")

            let server = try startServer(RecordingHandler())
            defer { server.shutdown() }
            #expect(throws: WebSocketError.self) { try server.start() }
        }

        @Test("invalid configurations are refused at init")
        func invalidConfiguration() {
            var configuration = WebSocketServer.Configuration()
            configuration.pingInterval = .seconds(10)
            configuration.pongTimeout = .seconds(10)
            #expect(throws: WebSocketError.self) { try WebSocketServer(configuration: configuration, handler: RecordingHandler()) }
            configuration = WebSocketServer.Configuration()
            configuration.maximumMessageBytes = 0
            #expect(throws: WebSocketError.self) { try WebSocketServer(configuration: configuration, handler: RecordingHandler()) }
            configuration = WebSocketServer.Configuration()
            configuration.subprotocol = "has space"
            #expect(throws: WebSocketError.self) { try WebSocketServer(configuration: configuration, handler: RecordingHandler()) }
        }
    }
}

/// Sends one raw HTTP request and returns the whole response (the server closes the connection).
private func httpExchange(port: UInt16, _ request: String) throws -> String {
    let socket = try RawSocket.connect(port: port)
    try socket.send(request)
    return String(decoding: try socket.receiveAll(timeout: .seconds(5)), as: UTF8.self)
}
