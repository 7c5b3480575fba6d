@testable import RiftWebSocket
import Testing

@Suite("test helpers")
struct TestHelperTests {
    @Test("Sec-WebSocket-Accept matches RFC 6455's example")
    func acceptKey() {
        #expect(SHA1.webSocketAccept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
