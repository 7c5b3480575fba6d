@testable import RiftDNS
import CRiftFuzz
import Glibc

/// The zone every input is asked of: two hosts, one without IPv6, so that every kind of answer can be reached. Set
/// before the driver starts: top-level code after `exit` never runs, and the entry point would read it uninitialised.
let zone = DNSZone(domain: "home.rift", hosts: [
    DNSHost(label: "laptop-b", ipv4: "100.64.0.2", ipv6: "fd7a:115c:a1e0::2"),
    DNSHost(label: "nas", ipv4: "100.64.0.3", ipv6: nil),
])

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzDNS))

/// libFuzzer entry point for the agent's resolver (`DNSWire.respond`, libldns underneath), which reads every datagram
/// that reaches port 53 of the overlay address. A datagram that is answered must get a reply that ldns reads back as a
/// response with the query's id, within the EDNS limit, and that is itself never answered (no reply loops).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzDNS(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let datagram = Array(UnsafeBufferPointer(start: data, count: size))
    guard let reply = DNSWire.respond(to: datagram, answering: zone.answer) else { return 0 }
    guard reply.count <= DNSWire.ednsPayloadSize else { fatalError("a reply of \(reply.count) bytes") }
    guard let message = DNSWire.decode(reply), message.isResponse, Array(reply.prefix(2)) == Array(datagram.prefix(2)) else {
        fatalError("an unreadable or mismatched reply: \(reply)")
    }
    guard DNSWire.respond(to: reply, answering: zone.answer) == nil else { fatalError("a reply was answered") }
    return 0
}
