/// A hand-driven WebSocket client: completes the handshake, then sends exactly the frames a
/// test asks for and reads only when told to (so it can also stay silent).
final class RawWebSocketPeer {
    let socket: RawSocket

    /// Connects and upgrades; `extraHeaders` are whole lines, each ending in CRLF.
    init(port: UInt16, path: String = "/", extraHeaders: String = "") throws {
        socket = try RawSocket.connect(port: port)
        try socket.send(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extraHeaders)\r\n")
        let response = try socket.receive(through: "\r\n\r\n")
        guard response.hasPrefix("HTTP/1.1 101") else {
            throw RawSocket.Failure(description: "handshake refused: \(response)")
        }
    }

    /// Sends one masked frame. `opcode` 1 = text, 0 = continuation, 2 = binary.
    func sendFrame(opcode: UInt8, payload: [UInt8], final: Bool) throws {
        var frame: [UInt8] = [(final ? 0x80 : 0) | opcode]
        switch payload.count {
        case ..<126:
            frame.append(0x80 | UInt8(payload.count))
        case ..<65_536:
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (UInt64($0) * 8)) & 0xFF) }
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try socket.send(frame)
    }

    func sendText(_ text: String, final: Bool = true) throws {
        try sendFrame(opcode: 1, payload: Array(text.utf8), final: final)
    }

    func sendContinuation(_ text: String, final: Bool) throws {
        try sendFrame(opcode: 0, payload: Array(text.utf8), final: final)
    }

    /// Reads the next frame from the server (unmasked, as servers send them).
    func receiveFrame(timeout: Duration = .seconds(5)) throws -> (opcode: UInt8, payload: [UInt8]) {
        let header = try socket.receiveExactly(2, timeout: timeout)
        var length = Int(header[1] & 0x7F)
        if length == 126 {
            length = try socket.receiveExactly(2, timeout: timeout).reduce(0) { $0 << 8 | Int($1) }
        } else if length == 127 {
            length = try socket.receiveExactly(8, timeout: timeout).reduce(0) { $0 << 8 | Int($1) }
        }
        return (header[0] & 0x0F, try socket.receiveExactly(length, timeout: timeout))
    }

    /// The status code of the next close frame, skipping other frames; nil for a close without one.
    func receiveCloseCode(timeout: Duration = .seconds(5)) throws -> UInt16? {
        while true {
            let frame = try receiveFrame(timeout: timeout)
            if frame.opcode == 8 {
                return frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : nil
            }
        }
    }
}
