import Glibc
import RiftHub
import RiftSupport
import Testing

@Suite("STUN responder thread")
struct STUNResponderTests {
    /// Sends a Binding request to `port` on 127.0.0.1 and returns the mapped endpoint of the answer (nil: no answer
    /// within `milliseconds`).
    private func ask(port: UInt16, waiting milliseconds: Int32 = 2_000) throws -> STUNEndpoint? {
        let server = try #require(try SystemCall.resolve("127.0.0.1", port: port, type: .datagram, numeric: true).first)
        let client = OwnedDescriptor(try SystemCall.socket(AF_INET, .datagram))
        defer { client.close() }
        let transaction = (0..<12).map { _ in UInt8.random(in: 0...255) }
        _ = try SystemCall.send(client.rawValue, STUNMessage.bindingRequest(transactionID: transaction), to: server)
        guard try SystemCall.wait(for: POLLIN, on: client.rawValue, timeoutMilliseconds: milliseconds) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1500)
        let (count, _) = try SystemCall.receiveFrom(client.rawValue, into: &buffer)
        return STUNMessage.mappedEndpoint(inResponse: Array(buffer[..<count]))
    }

    @Test("answers on its own thread, and stop wakes and joins that thread (TSan reports a thread never joined)")
    func answersThenStops() throws {
        let responder = try STUNResponder(host: "127.0.0.1", port: 0)
        try responder.start()
        #expect(try ask(port: responder.boundPort)?.address == [127, 0, 0, 1])
        responder.stop()
        responder.stop()  // idempotent
        // Stopped: the socket stays bound until the responder goes, but nobody answers it.
        #expect(try ask(port: responder.boundPort, waiting: 300) == nil)
    }

    @Test("a responder dropped without stop still ends its thread")
    func deinitStops() throws {
        var responder: STUNResponder? = try STUNResponder(host: "127.0.0.1", port: 0)
        try responder?.start()
        let port = try #require(responder?.boundPort)
        #expect(try ask(port: port) != nil)
        responder = nil  // deinit: stop (join), then the socket closes
        #expect(try ask(port: port, waiting: 300) == nil)
    }
}
