import RiftProtocol

/// The `wg` command lines used with kernel WireGuard, and the parser for `wg show <name> dump`.
///
/// Keys go to `wg` through standard input (`private-key /dev/stdin`), never as arguments.
enum WireGuardTool {
    /// Sets the listen port and (when not 0) the firewall mark, and reads the private key from standard input.
    static func setDevice(_ interface: String, listenPort: UInt16, fwmark: UInt32 = 0) -> [String] {
        ["wg", "set", interface, "listen-port", String(listenPort)] + (fwmark == 0 ? [] : ["fwmark", String(fwmark)])
            + ["private-key", "/dev/stdin"]
    }

    /// Adds or updates a peer; `allowed-ips` replaces the list (an empty string clears it), and nil `allowedIPs`
    /// leaves it as it is (see `PeerAllowedIPsRecord`). Debian 12's `wg` (1.0.20210914) cannot add to the list: it
    /// replaces whenever `allowed-ips` is given, so an added route replaces it here.
    static func setPeer(_ interface: String, _ peer: WireGuardPeer, allowedIPs: [String]?) -> [String] {
        var arguments = ["wg", "set", interface, "peer", peer.publicKey.base64]
        if let endpoint = peer.endpoint { arguments += ["endpoint", endpoint.description] }
        arguments += ["persistent-keepalive", peer.persistentKeepalive.map(String.init) ?? "off"]
        if let allowedIPs { arguments += ["allowed-ips", allowedIPs.joined(separator: ",")] }
        return arguments
    }

    /// Turns a peer's keepalive off, then on at `interval`, in one run: `wg` sends every `peer` section of its command
    /// line in one request, and the kernel applies them in order (netlink.c `set_peer`), sending a keepalive when a
    /// section turns the interval from 0 to non-zero. `wg set` has no update-only flag, so it would add a peer that is
    /// gone: callers ask only for peers they configured.
    static func sendKeepalive(_ interface: String, _ publicKey: PublicKey, interval: UInt16) -> [String] {
        ["wg", "set", interface, "peer", publicKey.base64, "persistent-keepalive", "off",
         "peer", publicKey.base64, "persistent-keepalive", String(max(interval, 1))]
    }

    /// Removes a peer.
    static func removePeer(_ interface: String, _ publicKey: PublicKey) -> [String] {
        ["wg", "set", interface, "peer", publicKey.base64, "remove"]
    }

    /// Prints the device and its peers, one tab-separated line each.
    static func dump(_ interface: String) -> [String] { ["wg", "show", interface, "dump"] }

    /// Parses `wg show <interface> dump`.
    ///
    /// The first line is `private-key public-key listen-port fwmark`; each further line is
    /// `public-key preshared-key endpoint allowed-ips latest-handshake rx tx persistent-keepalive`,
    /// with `(none)` and `off` for absent values. The private and preshared keys are skipped without
    /// being turned into strings. Fails with `.commandFailed` for any other shape.
    static func parseDump(_ dump: [UInt8]) throws(WireGuardError) -> WireGuardDeviceStatus {
        let lines = dump.split(separator: UInt8(ascii: "\n"))
        guard let first = lines.first else { throw malformed("it is empty") }
        let device = first.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
        guard device.count == 4, let listenPort = UInt16(text(device[2])) else { throw malformed("bad interface line") }
        var status = WireGuardDeviceStatus(listenPort: listenPort, publicKey: try key(device[1]), peers: [])
        for line in lines.dropFirst() {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            guard fields.count == 8, let publicKey = try key(fields[0]),
                  let handshake = Int64(text(fields[4])), let rx = UInt64(text(fields[5])),
                  let tx = UInt64(text(fields[6])) else { throw malformed("bad peer line") }
            let endpoint = text(fields[2])
            let allowedIPs = text(fields[3])
            let keepalive = text(fields[7])
            var peer = WireGuardPeerStatus(publicKey: publicKey, endpoint: endpoint == "(none)" ? nil : endpoint,
                                           lastHandshake: handshake == 0 ? nil : handshake, rxBytes: rx, txBytes: tx,
                                           allowedIPs: allowedIPs == "(none)" ? [] : allowedIPs.split(separator: ",").map(String.init))
            if keepalive != "off" {
                guard let seconds = UInt16(keepalive) else { throw malformed("bad keepalive") }
                peer.persistentKeepalive = seconds == 0 ? nil : seconds
            }
            status.peers.append(peer)
        }
        return status
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String { String(decoding: field, as: UTF8.self) }

    /// A base64 key field; nil for `(none)`.
    private static func key(_ field: ArraySlice<UInt8>) throws(WireGuardError) -> PublicKey? {
        let value = text(field)
        if value == "(none)" { return nil }
        guard let key = try? PublicKey(base64: value) else { throw malformed("bad public key") }
        return key
    }

    private static func malformed(_ detail: String) -> WireGuardError {
        WireGuardError(.commandFailed, "unexpected `wg show dump` output: \(detail)")
    }
}
