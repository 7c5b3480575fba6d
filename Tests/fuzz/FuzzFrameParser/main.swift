import CRiftFrameParser
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzFrameParser))

/// libFuzzer entry point for the hub's mask check (`CRiftFrameParser`), which reads every byte a client of the public
/// listener sends. The first byte picks where the rest is cut in three; fed whole or in those pieces, the parser must
/// end in the same state with the same answer (lws reads a stream in whatever pieces the kernel hands over).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzFrameParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let stream = UnsafeBufferPointer(start: data + 1, count: size - 1)
    var whole = CRiftFrameParser_stream()
    CRiftFrameParser_reset(&whole)
    let wholeAnswer = CRiftFrameParser_feed(&whole, stream.baseAddress, stream.count)
    var pieces = CRiftFrameParser_stream()
    CRiftFrameParser_reset(&pieces)
    let first = stream.isEmpty ? 0 : Int(data[0]) % (stream.count + 1)
    let second = first + (stream.count - first) / 2
    var piecesAnswer: Int32 = 0
    for (start, end) in [(0, first), (first, second), (second, stream.count)] {
        piecesAnswer = CRiftFrameParser_feed(&pieces, stream.baseAddress.map { $0 + start }, end - start)
    }
    guard wholeAnswer == piecesAnswer, sameState(whole, pieces) else {
        fatalError("fed in pieces at \(first) and \(second), the parser ends elsewhere")
    }
    return 0
}

/// Every field of the two parsers' states is equal.
func sameState(_ a: CRiftFrameParser_stream, _ b: CRiftFrameParser_stream) -> Bool {
    (a.phase, a.skip, a.length, a.line_length, a.upgrade_matched) == (b.phase, b.skip, b.length, b.line_length, b.upgrade_matched)
        && (a.request_upgrades, a.length_bytes, a.masked, a.saw_unmasked_frame)
        == (b.request_upgrades, b.length_bytes, b.masked, b.saw_unmasked_frame)
        && a.control_frames == b.control_frames
}
