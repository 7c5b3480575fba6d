import RiftCluster
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzClusterMessage))

/// libFuzzer entry point for `ClusterMessage.decode`, what a hub of a cluster runs on every message from the NATS bus
/// (any bytes: NATS payloads are not checked for UTF-8). A decoded message must survive encode → decode unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzClusterMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? ClusterMessage.decode(bytes) else { return 0 }
    let encoded = message.encoded
    let again: ClusterMessage
    do { again = try ClusterMessage.decode(encoded) } catch {
        fatalError("an encoded message does not decode (\(error)): \(String(decoding: encoded, as: UTF8.self))")
    }
    guard again == message, again.encoded == encoded else {
        fatalError("round trip changed the message: \(String(decoding: bytes, as: UTF8.self))")
    }
    return 0
}
