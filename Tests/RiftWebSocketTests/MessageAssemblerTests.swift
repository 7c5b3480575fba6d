@testable import RiftWebSocket
import Testing

@Suite("MessageAssembler rebuilds messages and enforces the size limit")
struct MessageAssemblerTests {
    /// One piece of payload as lws would deliver it.
    private struct Piece {
        var bytes: [UInt8]
        var isFinal = true
        var isBinary = false
        var remainingInFrame = 0
    }

    private static func text(_ text: String, final: Bool = true, remaining: Int = 0) -> Piece {
        Piece(bytes: Array(text.utf8), isFinal: final, remainingInFrame: remaining)
    }

    /// Feeds the pieces in order to one assembler and returns each outcome.
    private func feed(limit: Int, _ pieces: Piece...) -> [MessageAssembler.Outcome] {
        var assembler = MessageAssembler(maximumBytes: limit)
        return pieces.map {
            assembler.receive($0.bytes, isFinal: $0.isFinal, isBinary: $0.isBinary, remainingInFrame: $0.remainingInFrame)
        }
    }

    @Test("a message in one piece is returned as is")
    func singlePiece() {
        #expect(feed(limit: 10, Self.text("hello"), Self.text("")) == [.message("hello"), .message("")])
    }

    @Test("pieces are joined, even when a piece splits a UTF-8 character")
    func joinsPieces() {
        let bytes = Array("naïve ✓".utf8)
        let outcomes = feed(
            limit: 100,
            Piece(bytes: Array(bytes[0..<3]), isFinal: false),
            Piece(bytes: Array(bytes[3..<9]), isFinal: false),
            Piece(bytes: Array(bytes[9...])),
            Self.text("next"))
        #expect(outcomes == [.incomplete, .incomplete, .message("naïve ✓"), .message("next")])
    }

    @Test("exactly the limit is accepted, one byte more is not")
    func limitIsInclusive() {
        let outcomes = feed(
            limit: 4, Self.text("ab", final: false), Self.text("cd"), Self.text("abc", final: false), Self.text("de"))
        #expect(outcomes == [.incomplete, .message("abcd"), .incomplete, .oversized])
    }

    @Test("a frame announcing too much is refused before its payload is buffered, and the rest is skipped")
    func refusesAnnouncedSize() {
        let outcomes = feed(
            limit: 10,
            Self.text("abc", final: false, remaining: 1_000_000),
            Self.text("more", final: false, remaining: 999_996),
            Self.text("end"),
            Self.text("ok"))
        #expect(outcomes == [.oversized, .incomplete, .incomplete, .message("ok")])
    }

    @Test("binary messages are reported once and skipped")
    func binary() {
        let outcomes = feed(
            limit: 10,
            Piece(bytes: [1, 2], isFinal: false, isBinary: true),
            Piece(bytes: [3], isBinary: true),
            Self.text("t"))
        #expect(outcomes == [.binary, .incomplete, .message("t")])
    }

    @Test("endless empty continuation frames are cut off: a message may come in at most maximumFrames frames")
    func tooFragmented() {
        var assembler = MessageAssembler(maximumBytes: 65_536, maximumFrames: 4)
        var outcomes: [MessageAssembler.Outcome] = []
        for _ in 0..<6 { outcomes.append(assembler.receive([UInt8](), isFinal: false, isBinary: false, remainingInFrame: 0)) }
        #expect(outcomes == [.incomplete, .incomplete, .incomplete, .incomplete, .tooFragmented, .incomplete])
        // A message within the limit, after a final piece, starts counting afresh.
        var fresh = MessageAssembler(maximumBytes: 100, maximumFrames: 2)
        var results: [MessageAssembler.Outcome] = []
        for (text, final) in [("a", false), ("b", true), ("c", false), ("d", true)] {
            results.append(fresh.receive(Array(text.utf8), isFinal: final, isBinary: false, remainingInFrame: 0))
        }
        #expect(results == [.incomplete, .message("ab"), .incomplete, .message("cd")])
    }

    @Test("one frame read in many pieces counts as one frame: a 1,000-byte frame in 334 reads of 3 bytes is a message")
    func oneFrameInManyReads() {
        let payload = Array(String(repeating: "r", count: 1_000).utf8)
        var assembler = MessageAssembler(maximumBytes: 65_536, maximumFrames: 4)
        var outcomes: [MessageAssembler.Outcome] = []
        var startsFrame: [Bool] = []
        var offset = 0
        while offset < payload.count {
            let end = min(offset + 3, payload.count)
            startsFrame.append(assembler.nextPieceStartsFrame)
            outcomes.append(assembler.receive(payload[offset..<end], isFinal: end == payload.count, isBinary: false,
                                              remainingInFrame: payload.count - end))
            offset = end
        }
        #expect(outcomes.count == 334)
        #expect(outcomes.dropLast().allSatisfy { $0 == .incomplete })
        #expect(outcomes.last == .message(String(decoding: payload, as: UTF8.self)))
        #expect(startsFrame.first == true && startsFrame.dropFirst().allSatisfy { !$0 })
        #expect(assembler.nextPieceStartsFrame, "the piece that ended the frame makes the next piece a new frame")
    }

    @Test("frames split over several reads still count toward maximumFrames, once each")
    func splitFramesCountOnce() {
        var assembler = MessageAssembler(maximumBytes: 65_536, maximumFrames: 3)
        var outcomes: [MessageAssembler.Outcome] = []
        // Four frames of 4 bytes, each read in two pieces; the message never ends.
        for _ in 0..<4 {
            outcomes.append(assembler.receive(Array("ab".utf8), isFinal: false, isBinary: false, remainingInFrame: 2))
            outcomes.append(assembler.receive(Array("cd".utf8), isFinal: false, isBinary: false, remainingInFrame: 0))
        }
        // Three frames (six pieces) pass; the fourth frame's first piece is refused, its second is discarded.
        #expect(outcomes == Array(repeating: .incomplete, count: 6) + [.tooFragmented, .incomplete])
        // Three frames in six pieces make a message.
        var fits = MessageAssembler(maximumBytes: 65_536, maximumFrames: 3)
        var results: [MessageAssembler.Outcome] = []
        for frame in 0..<3 {
            results.append(fits.receive(Array("ab".utf8), isFinal: false, isBinary: false, remainingInFrame: 2))
            results.append(fits.receive(Array("cd".utf8), isFinal: frame == 2, isBinary: false, remainingInFrame: 0))
        }
        #expect(results == Array(repeating: .incomplete, count: 5) + [.message("abcdabcdabcd")])
    }

    @Test("the frame budget allows a burst, then refills at its rate")
    func frameBudget() {
        let start = ContinuousClock.now
        var budget = FrameBudget(burst: 3, perSecond: 10, now: start)
        var taken: [Bool] = []
        for offset in [0, 0, 0, 0, 50, 160, 10_000, 10_000, 10_000, 10_000] {
            taken.append(budget.take(now: start + .milliseconds(offset)))
        }
        // A burst of 3, then nothing until a frame has refilled (100 ms at 10/s), never more than the burst.
        #expect(taken == [true, true, true, false, false, true, true, true, true, false])
    }
}
