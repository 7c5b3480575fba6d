import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite("connectAddress: connect to one address, keep the name")
    struct ClientAddressTests {
        @Test("the client connects to the given address and still sends the URL's name as Host")
        func addressAndName() async throws {
            let (listener, port) = try RawSocket.listen()
            // The name does not resolve: only the address can have brought the connection here.
            let probe = try ClientProbe("ws://riftgate-test-host.invalid:\(port)/v1/networks/home") {
                $0.connectAddress = "127.0.0.1"
            }
            let connection = try listener.accept()
            let request = try connection.receive(through: "\r\n\r\n")
            #expect(request.contains("Host: riftgate-test-host.invalid:\(port)\r\n"), "\(request)")
            try connection.send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            let closed = try await probe.waitClosed()
            #expect(closed.reason.hasPrefix("the server at riftgate-test-host.invalid:\(port) (address 127.0.0.1) answered"),
                    "\(closed.reason)")
        }

        @Test("a connectAddress that is not numeric is refused")
        func notNumeric() {
            var configuration = WebSocketClientConfiguration(url: "wss://hub.example.org/")
            configuration.connectAddress = "other.example.org"
            #expect(throws: WebSocketError.self) { _ = try WebSocketClient(configuration: configuration) }
        }
    }
}
