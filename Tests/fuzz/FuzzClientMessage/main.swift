import RiftProtocol
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzClientMessage))

/// libFuzzer entry point for `ClientMessage.decode`, what the hub runs on every frame an agent sends. Frames are
/// WebSocket text frames, so only valid UTF-8 reaches the decoder. A decoded message must survive
/// encode → decode unchanged, and encode to the same text again.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzClientMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self),
          let message = try? ClientMessage.decode(text) else { return 0 }
    let encoded = message.encoded()
    let again: ClientMessage
    do { again = try ClientMessage.decode(encoded) } catch {
        fatalError("an encoded message does not decode (\(error)): \(encoded)")
    }
    guard again == message, again.encoded() == encoded else { fatalError("round trip changed the message: \(text) → \(encoded)") }
    return 0
}
