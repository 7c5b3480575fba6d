import RiftProtocol
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzHubMessage))

/// libFuzzer entry point for `HubMessage.decode`, what an agent runs on every frame from the hub. Only valid UTF-8
/// reaches the decoder (WebSocket text frames). A decoded message must survive encode → decode unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHubMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self),
          let message = try? HubMessage.decode(text) else { return 0 }
    let encoded = message.encoded()
    let again: HubMessage
    do { again = try HubMessage.decode(encoded) } catch {
        fatalError("an encoded message does not decode (\(error)): \(encoded)")
    }
    guard again == message, again.encoded() == encoded else { fatalError("round trip changed the message: \(text) → \(encoded)") }
    return 0
}
