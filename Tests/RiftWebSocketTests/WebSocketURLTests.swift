@testable import RiftWebSocket
import Testing

@Suite("WebSocketURL parses what a client connects to")
struct WebSocketURLTests {
    @Test("scheme, host, port, path and Host header", arguments: [
        ("ws://hub.example:8080/v1/signal", false, "hub.example", 8080, "/v1/signal", "hub.example:8080"),
        ("wss://hub.example/v1", true, "hub.example", 443, "/v1", "hub.example"),
        ("ws://10.0.0.1", false, "10.0.0.1", 80, "/", "10.0.0.1"),
        ("WSS://hub.example:443?x=1", true, "hub.example", 443, "/?x=1", "hub.example"),
        ("ws://[fd00::1]:9000/a?b=c", false, "fd00::1", 9000, "/a?b=c", "[fd00::1]:9000"),
        ("wss://[::1]/", true, "::1", 443, "/", "[::1]"),
    ] as [(String, Bool, String, UInt16, String, String)])
    func parses(_ text: String, _ secure: Bool, _ host: String, _ port: UInt16, _ path: String, _ hostHeader: String) throws {
        let url = try WebSocketURL(parsing: text)
        #expect(url.isSecure == secure)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.path == path)
        #expect(url.hostHeader == hostHeader)
    }

    @Test("malformed URLs are refused with a reason", arguments: [
        "https://hub.example/", "ws:/hub", "ws://", "ws://:80/", "ws://hub:0/", "ws://hub:65536/", "ws://hub:x/",
        "ws://user:pw@hub/", "ws://hub/#fragment", "ws://hub /", "ws://[::1", "ws://[hub]/", "ws://[::1]x/",
    ])
    func refuses(_ text: String) {
        let error = #expect(throws: WebSocketError.self) { try WebSocketURL(parsing: text) }
        #expect(error?.reason.hasPrefix("invalid WebSocket URL") == true)
    }
}
