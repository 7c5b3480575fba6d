import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite("client failures arrive as .closed with a clear reason")
    struct ClientFailureTests {
        @Test("connecting to a closed port fails fast as refused")
        func closedPort() async throws {
            let port = try RawSocket.listen().1  // the listener is closed again at once
            // A connect timeout far longer than the wait: only a refusal can end the connection in time.
            // (No bound on the elapsed time: a CI machine busy with other suites may take seconds.)
            let probe = try ClientProbe(port: port) { $0.connectTimeout = .seconds(60) }
            let closed = try await probe.waitClosed(timeout: .seconds(30))
            #expect(closed.code == nil)
            #expect(closed.reason == "cannot connect to 127.0.0.1:\(port): connection refused or host unreachable")
            #expect(probe.events.count == 1)
        }

        @Test("a server that never answers the handshake times out after connectTimeout")
        func handshakeTimeout() async throws {
            let (listener, port) = try RawSocket.listen()
            let clock = ContinuousClock()
            let start = clock.now
            let probe = try ClientProbe(port: port) { $0.connectTimeout = .seconds(1) }
            let closed = try await probe.waitClosed(timeout: .seconds(15))
            let elapsed = clock.now - start
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(12), "timed out after \(elapsed)")
            #expect(closed.code == nil)
            #expect(closed.reason == "timed out after 1 s connecting to 127.0.0.1:\(port)")
            _ = listener
        }

        @Test("an HTTP 401 answer to the upgrade is reported with its status")
        func unauthorized() async throws {
            let (listener, port) = try RawSocket.listen()
            let probe = try ClientProbe(port: port) { $0.headers = [(name: "Authorization", value: "Bearer wrong")] }
            let connection = try listener.accept()
            let request = try connection.receive(through: "\r\n\r\n")
            #expect(request.contains("Authorization: Bearer wrong\r\n"))
            try connection.send("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            let closed = try await probe.waitClosed()
            #expect(closed.code == nil)
            #expect(closed.reason.hasPrefix("the server at 127.0.0.1:\(port) answered the WebSocket upgrade with HTTP 401"))
        }

        @Test("an unknown host name is reported as such")
        func unknownHost() async throws {
            let probe = try ClientProbe("ws://riftgate-test-host.invalid:8080/")
            let closed = try await probe.waitClosed(timeout: .seconds(10))
            #expect(closed.reason.hasPrefix("cannot resolve the host name riftgate-test-host.invalid"))
        }

        @Test("a client closed before connecting ends its stream at once")
        func closedBeforeConnecting() async throws {
            let client = try WebSocketClient(configuration: WebSocketClientConfiguration(url: "ws://127.0.0.1:9/"))
            client.close()
            client.connect()
            var events: [WebSocketClientEvent] = []
            for await event in client.events { events.append(event) }
            #expect(events == [.closed(code: nil, reason: "closed by the client before connecting")])
        }

        @Test("malformed URLs and headers are refused at init")
        func invalidConfiguration() {
            for url in ["http://host/", "ws://", "ws://host:0/", "ws://host:70000/", "ws://user@host/", "ws://ho st/", "ws://[::1/"] {
                #expect(throws: WebSocketError.self, "\(url)") {
                    try WebSocketClient(configuration: WebSocketClientConfiguration(url: url))
                }
            }
            var configuration = WebSocketClientConfiguration(url: "ws://127.0.0.1:1/")
            configuration.headers = [(name: "X-Token", value: "a\r\nInjected: yes")]
            #expect(throws: WebSocketError.self) { try WebSocketClient(configuration: configuration) }
            configuration.headers = [(name: "Sec-WebSocket-Key", value: "x")]
            #expect(throws: WebSocketError.self) { try WebSocketClient(configuration: configuration) }
        }

        @Test("a server that stops answering pings is dropped by the client's heartbeat")
        func silentServerDropped() async throws {
            let (listener, port) = try RawSocket.listen()
            let probe = try ClientProbe(port: port) {
                $0.pingInterval = .seconds(1)
                $0.pongTimeout = .seconds(2)
            }
            let connection = try Self.acceptUpgrade(on: listener)
            try await probe.waitConnected()
            try await Self.expectDroppedBetween(.milliseconds(1_500), and: .seconds(12), probe)
            _ = connection
        }

        @Test("a heartbeat set on an open connection applies from then on")
        func heartbeatChangedWhileOpen() async throws {
            let (listener, port) = try RawSocket.listen()
            let probe = try ClientProbe(port: port)  // 20 s pings, 60 s without a pong
            let connection = try Self.acceptUpgrade(on: listener)
            try await probe.waitConnected()
            #expect(throws: WebSocketError.self) { try probe.client.setHeartbeat(pingInterval: .seconds(2), pongTimeout: .seconds(2)) }
            try probe.client.setHeartbeat(pingInterval: .seconds(1), pongTimeout: .seconds(2))
            try await Self.expectDroppedBetween(.milliseconds(1_500), and: .seconds(12), probe)
            _ = connection
        }

        /// Accepts one connection and completes its WebSocket upgrade, then says nothing more.
        private static func acceptUpgrade(on listener: RawSocket) throws -> RawSocket {
            let connection = try listener.accept()
            let request = try connection.receive(through: "\r\n\r\n")
            let keyLine = try #require(request.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") })
            let key = keyLine.split(separator: ":", maxSplits: 1)[1].trimmingPrefix(" ")
            try connection.send(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: \(SHA1.webSocketAccept(for: String(key)))\r\n\r\n")
            return connection
        }

        /// The client's heartbeat ends the connection to a silent server within the bounds, counted from now.
        private static func expectDroppedBetween(_ earliest: Duration, and latest: Duration, _ probe: ClientProbe) async throws {
            let clock = ContinuousClock()
            let start = clock.now
            let closed = try await probe.waitClosed(timeout: latest + .seconds(3))
            let elapsed = clock.now - start
            #expect(elapsed >= earliest && elapsed < latest, "dropped after \(elapsed)")
            #expect(closed.code == nil)
            #expect(closed.reason.contains("was lost"))
        }
    }
}
