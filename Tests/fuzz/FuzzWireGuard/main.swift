import RiftProtocol
@testable import RiftWireGuard
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzWireGuard))

/// libFuzzer entry point for the parsers of what WireGuard reports. The first byte picks the mode:
/// - 0: the rest is `wg show <name> dump` output (`WireGuardTool.parseDump`);
/// - 1: the rest is a UAPI `get=1` answer (`UAPILine.parseResponse`, then `UAPIStatus.parse`);
/// - otherwise: the rest describes a device status, which is printed both ways as `wg` and wireguard-go print it,
///   and both parsers must read back exactly that status (valid output never fails to parse).
/// Malformed input must fail with a `WireGuardError`, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzWireGuard(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch mode {
    case 0:
        _ = try? WireGuardTool.parseDump(rest)
    case 1:
        if let lines = try? UAPILine.parseResponse(rest, from: "fuzz") { _ = try? UAPIStatus.parse(lines, publicKey: nil) }
    default:
        var reader = ByteReader(rest)
        let status = reader.deviceStatus()
        let fromDump: WireGuardDeviceStatus
        let fromUAPI: WireGuardDeviceStatus
        do {
            fromDump = try WireGuardTool.parseDump(Array(dumpText(status).utf8))
            fromUAPI = try UAPIStatus.parse(try UAPILine.parseResponse(Array(uapiText(status).utf8), from: "fuzz"),
                                            publicKey: status.publicKey)
        } catch {
            fatalError("valid output failed to parse (\(error)):\n\(dumpText(status))\n\(uapiText(status))")
        }
        guard fromDump == status else { fatalError("wg show dump read back differently:\n\(dumpText(status))") }
        guard fromUAPI == status else { fatalError("the UAPI answer read back differently:\n\(uapiText(status))") }
    }
    return 0
}

/// `wg show <name> dump` as wireguard-tools prints it.
func dumpText(_ status: WireGuardDeviceStatus) -> String {
    var text = "\(Base64.encode([UInt8](repeating: 1, count: 32)))\t\(status.publicKey?.base64 ?? "(none)")\t\(status.listenPort)\toff\n"
    for peer in status.peers {
        let allowed = peer.allowedIPs.isEmpty ? "(none)" : peer.allowedIPs.joined(separator: ",")
        let keepalive = peer.persistentKeepalive.map(String.init) ?? "off"
        text += "\(peer.publicKey.base64)\t(none)\t\(peer.endpoint ?? "(none)")\t\(allowed)\t\(peer.lastHandshake ?? 0)\t"
            + "\(peer.rxBytes)\t\(peer.txBytes)\t\(keepalive)\n"
    }
    return text
}

/// A UAPI `get=1` answer as wireguard-go writes it.
func uapiText(_ status: WireGuardDeviceStatus) -> String {
    var text = "private_key=\(String(repeating: "01", count: 32))\nlisten_port=\(status.listenPort)\n"
    for peer in status.peers {
        text += "public_key=\(peer.publicKey.hex)\npreshared_key=\(String(repeating: "00", count: 32))\nprotocol_version=1\n"
        if let endpoint = peer.endpoint { text += "endpoint=\(endpoint)\n" }
        text += "last_handshake_time_sec=\(peer.lastHandshake ?? 0)\nlast_handshake_time_nsec=0\n"
        text += "tx_bytes=\(peer.txBytes)\nrx_bytes=\(peer.rxBytes)\npersistent_keepalive_interval=\(peer.persistentKeepalive ?? 0)\n"
        for prefix in peer.allowedIPs { text += "allowed_ip=\(prefix)\n" }
    }
    return text + "errno=0\n\n"
}

/// Draws values from the fuzzer's bytes, zeros once they run out.
struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        defer { index += 1 }
        return index < bytes.count ? bytes[index] : 0
    }

    mutating func integer<Number: FixedWidthInteger>(_: Number.Type = Number.self) -> Number {
        (0..<Number.bitWidth / 8).reduce(Number.zero) { value, _ in value << 8 | Number(truncatingIfNeeded: byte()) }
    }

    mutating func key() -> PublicKey { try! PublicKey(bytes: (0..<32).map { _ in byte() }) }

    mutating func endpoint() -> String? {
        switch byte() % 3 {
        case 0: return nil
        case 1: return "\(byte()).\(byte()).\(byte()).\(byte()):\(integer(UInt16.self))"
        default:
            let groups = (0..<8).map { _ in String(integer(UInt16.self), radix: 16) }
            return "[\(groups.joined(separator: ":"))]:\(integer(UInt16.self))"
        }
    }

    mutating func allowedIP() -> String {
        byte() % 2 == 0
            ? "\(byte()).\(byte()).\(byte()).\(byte())/\(byte() % 33)"
            : "fd7a:115c:a1e0::\(String(integer(UInt16.self), radix: 16))/\(byte() % 129)"
    }

    mutating func deviceStatus() -> WireGuardDeviceStatus {
        let listenPort = integer(UInt16.self)
        var status = WireGuardDeviceStatus(listenPort: listenPort, publicKey: byte() % 2 == 0 ? nil : key(), peers: [])
        while !isAtEnd, status.peers.count < 8 {
            var peer = WireGuardPeerStatus(publicKey: key(), endpoint: endpoint())
            let handshake = Int64(integer(UInt32.self))
            peer.lastHandshake = handshake == 0 ? nil : handshake
            peer.rxBytes = integer(UInt64.self)
            peer.txBytes = integer(UInt64.self)
            let keepalive = integer(UInt16.self)
            peer.persistentKeepalive = keepalive == 0 ? nil : keepalive
            peer.allowedIPs = (0..<(byte() % 4)).map { _ in allowedIP() }
            status.peers.append(peer)
        }
        return status
    }
}
