import CRiftFrameParser
import Testing

/// The parser behind the hub's RFC 6455 §5.1 check and control-frame count (CRiftFrameGuard): HTTP until an upgrade
/// request's head ends, then frame headers; any split of the stream must give the same answer.
@Suite struct FrameParserTests {
    static let upgrade = Array("GET /v1/networks/home HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
    static let healthz = Array("GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n".utf8)

    /// A client frame with FIN set: masked (with a fixed key) or not, with the 7-, 16- or 64-bit length its size needs
    /// (or the 64-bit form when `longForm`).
    static func frame(_ opcode: UInt8, _ payload: [UInt8], masked: Bool = true, longForm: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 && !longForm {
            bytes.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xffff && !longForm {
            bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (8 * UInt64($0))) & 0xff) }
        }
        guard masked else { return bytes + payload }
        let key: [UInt8] = [0x81, 0x82, 0x83, 0x84]  // every key byte has its high bit set, like an unmasked header
        return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    /// Feeds `stream` in pieces of `pieceSize` bytes (0: all at once); returns the parser's answer.
    static func sawUnmasked(_ stream: [UInt8], pieceSize: Int = 0) -> Bool {
        fed(stream, pieceSize: pieceSize).answer
    }

    /// Feeds `stream` in pieces of `pieceSize` bytes (0: all at once); returns the parser's answer and its state.
    static func fed(_ stream: [UInt8], pieceSize: Int = 0) -> (answer: Bool, parser: CRiftFrameParser_stream) {
        var parser = CRiftFrameParser_stream()
        CRiftFrameParser_reset(&parser)
        var answer: Int32 = 0
        let size = pieceSize == 0 ? max(stream.count, 1) : pieceSize
        for start in stride(from: 0, to: stream.count, by: size) {
            let piece = Array(stream[start..<min(start + size, stream.count)])
            answer = piece.withUnsafeBufferPointer { CRiftFrameParser_feed(&parser, $0.baseAddress, $0.count) }
        }
        return (answer != 0, parser)
    }

    @Test(arguments: pieceSizes)
    func controlFramesAreCountedOnceEach(pieceSize: Int) {
        var stream = Self.upgrade + Self.frame(0x1, Array("{}".utf8))
        for _ in 0..<5 { stream += Self.frame(0x9, Array("ping".utf8)) }
        stream += Self.frame(0xA, []) + Self.frame(0x1, [UInt8](repeating: 0x89, count: 300))  // payload bytes look like pings
        var fragmented = Self.frame(0x1, Array("{".utf8))
        fragmented[0] &= 0x7f
        stream += fragmented + Self.frame(0x9, []) + Self.frame(0x0, Array("}".utf8)) + Self.frame(0x8, [0x03, 0xe8])
        let (answer, parser) = Self.fed(stream, pieceSize: pieceSize)
        #expect(!answer)
        #expect(parser.control_frames == 8)  // 6 pings, a pong, a close; no data frame, no payload byte
        #expect(Self.fed(Self.healthz + Self.upgrade, pieceSize: pieceSize).parser.control_frames == 0)
    }

    static let pieceSizes = [0, 1, 2, 3, 7, 100]

    @Test(arguments: pieceSizes)
    func maskedFramesOfEveryLengthFormPass(pieceSize: Int) {
        let payloads: [[UInt8]] = [[], Array("hello".utf8), [UInt8](repeating: 0x20, count: 125),
                                   [UInt8](repeating: 0x00, count: 126), [UInt8](repeating: 0xff, count: 70_000)]
        var stream = Self.upgrade
        for payload in payloads { stream += Self.frame(0x1, payload) }
        stream += Self.frame(0x1, Array("{}".utf8), longForm: true)
        stream += Self.frame(0x9, Array("ping".utf8)) + Self.frame(0xA, []) + Self.frame(0x8, [0x03, 0xe8])
        #expect(!Self.sawUnmasked(stream, pieceSize: pieceSize))
    }

    @Test(arguments: pieceSizes)
    func anUnmaskedFrameAfterMaskedOnesIsSeen(pieceSize: Int) {
        let masked = Self.frame(0x1, [UInt8](repeating: 0x41, count: 300)) + Self.frame(0x1, [], longForm: true)
        #expect(Self.sawUnmasked(Self.upgrade + masked + Self.frame(0x9, Array("ping".utf8), masked: false),
                                 pieceSize: pieceSize))
        #expect(Self.sawUnmasked(Self.upgrade + Self.frame(0x1, Array("{}".utf8), masked: false), pieceSize: pieceSize))
        // A fragment's continuation, unmasked.
        var fragmented = Self.frame(0x1, Array("{".utf8))
        fragmented[0] &= 0x7f
        #expect(Self.sawUnmasked(Self.upgrade + fragmented + Self.frame(0x0, Array("}".utf8), masked: false),
                                 pieceSize: pieceSize))
    }

    @Test func keepAliveRequestsAreNotFrames() {
        // Two plain requests on one connection, then an upgrade: only the upgrade's frames are parsed.
        let stream = Self.healthz + Self.healthz + Self.upgrade + Self.frame(0x1, Array("{}".utf8))
        #expect(!Self.sawUnmasked(Self.healthz + Self.healthz, pieceSize: 1))
        #expect(!Self.sawUnmasked(stream, pieceSize: 1))
        #expect(Self.sawUnmasked(Self.healthz + Self.upgrade + Self.frame(0x9, [], masked: false)))
    }

    @Test func theHeaderNameIsMatchedWithoutCaseAndOnlyAtALineStart() {
        var parser = CRiftFrameParser_stream()
        let lower = Array("GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n".utf8)
        _ = lower.withUnsafeBufferPointer { CRiftFrameParser_feed(&parser, $0.baseAddress, $0.count) }
        #expect(CRiftFrameParser_reads_frames(&parser) != 0)

        CRiftFrameParser_reset(&parser)
        let elsewhere = Array("GET /upgrade: HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n".utf8)
        _ = elsewhere.withUnsafeBufferPointer { CRiftFrameParser_feed(&parser, $0.baseAddress, $0.count) }
        #expect(CRiftFrameParser_reads_frames(&parser) == 0)
    }

    @Test func aSaturatedLengthNeverWrapsAround() {
        // Bit 63 set (lws refuses such a frame): the payload is skipped to the end of the stream, not misparsed.
        let header: [UInt8] = [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        #expect(!Self.sawUnmasked(Self.upgrade + header + [UInt8](repeating: 0x01, count: 64), pieceSize: 3))
    }
}
