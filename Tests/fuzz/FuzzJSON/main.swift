import RiftProtocol
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzJSON))

/// libFuzzer entry point for `JSONParser`: any bytes must parse or fail with a `ProtocolError`, never crash; and what
/// parses must reach a fixed point after one write: `write(parse(write(v))) == write(v)`. (Not `parse(write(v)) == v`:
/// the writer prints a whole double such as `1.0` as `1`, which reads back as an integer, by design.)
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let written = JSONWriter.string(value)
    guard let reparsed = try? JSONParser.parse(written) else { fatalError("the writer's output does not parse: \(written)") }
    let rewritten = JSONWriter.string(reparsed)
    guard rewritten == written else { fatalError("write/parse is not a fixed point: \(written) then \(rewritten)") }
    return 0
}
