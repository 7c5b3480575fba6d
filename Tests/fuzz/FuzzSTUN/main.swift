import RiftHub
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzSTUN))

/// libFuzzer entry point for the hub's STUN parser (`STUNMessage.bindingRequest(in:)`), which reads every datagram
/// that reaches the STUN port, and for the client-side `mappedEndpoint(inResponse:)`. A request that parses is
/// answered, and the answer must report exactly the endpoint it was built for (derived here from the request's
/// bytes: IPv4 or IPv6, any address and port) and must not itself parse as a request.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSTUN(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let datagram = Array(UnsafeBufferPointer(start: data, count: size))
    _ = STUNMessage.mappedEndpoint(inResponse: datagram)
    guard let request = STUNMessage.bindingRequest(in: datagram) else { return 0 }
    let id = request.transactionID
    let seed = id + id.reversed()
    let endpoint = STUNEndpoint(address: Array(seed.prefix(id[0] % 2 == 0 ? 4 : 16)), port: UInt16(id[1]) << 8 | UInt16(id[2]))
    let response = STUNMessage.bindingSuccessResponse(to: request, endpoint: endpoint)
    guard STUNMessage.mappedEndpoint(inResponse: response) == endpoint else {
        fatalError("the response does not report \(endpoint): \(response)")
    }
    guard STUNMessage.bindingRequest(in: response) == nil else { fatalError("a response parsed as a request") }
    return 0
}
