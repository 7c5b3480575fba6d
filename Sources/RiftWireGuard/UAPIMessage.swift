import RiftProtocol

/// One `key=value` line of the UAPI protocol. The value stays bytes so a private key can be wiped.
struct UAPILine: Sendable, Equatable {
    var key: String
    var value: [UInt8]

    init(_ key: String, _ value: String) {
        self.key = key
        self.value = Array(value.utf8)
    }

    init(_ key: String, bytes: [UInt8]) {
        self.key = key
        self.value = bytes
    }

    var text: String { String(decoding: value, as: UTF8.self) }

    /// Splits a response into lines, checks its closing `errno=` line and drops it.
    ///
    /// `private_key` lines are skipped without being turned into strings. Fails with
    /// `.controlFailed` for a malformed response or a non-zero errno (reported positive: wireguard-go
    /// sends `-EINVAL` and so on).
    static func parseResponse(_ response: [UInt8], from source: String) throws(WireGuardError) -> [UAPILine] {
        var lines: [UAPILine] = []
        for rawLine in response.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let equals = rawLine.firstIndex(of: UInt8(ascii: "=")) else {
                throw WireGuardError(.controlFailed, "malformed line in the answer from \(source)")
            }
            let key = String(decoding: rawLine[..<equals], as: UTF8.self)
            if key == "private_key" { continue }
            lines.append(UAPILine(key, bytes: Array(rawLine[(equals + 1)...])))
        }
        guard let last = lines.popLast(), last.key == "errno", let number = Int32(last.text) else {
            throw WireGuardError(.controlFailed, "answer from \(source) does not end with errno=")
        }
        guard number == 0 else {
            // `magnitude`, not `-number`: negating errno=-2147483648 would trap.
            throw WireGuardError(.controlFailed, "WireGuard refused the request on \(source)", errno: Int32(clamping: number.magnitude))
        }
        return lines
    }
}

/// Builds `set=1` bodies.
enum UAPIRequest {
    /// Sets our private key, listen port and (when not 0) the firewall mark of WireGuard's own packets.
    static func device(privateKey: [UInt8], listenPort: UInt16, fwmark: UInt32 = 0) -> [UAPILine] {
        var lines = [UAPILine("private_key", bytes: Hex.encode(privateKey)), UAPILine("listen_port", String(listenPort))]
        if fwmark != 0 { lines.append(UAPILine("fwmark", String(fwmark))) }
        return lines
    }

    /// Adds or updates `peer`: its endpoint, its keepalive, and its allowed IPs as `change` says (already canonical):
    /// none sent for `.keep`, only the new ones for `.add` (wireguard-go adds them to the peer's list), the whole list
    /// after `replace_allowed_ips` for `.replace` (see `PeerAllowedIPsRecord`).
    static func setPeer(_ peer: WireGuardPeer, allowedIPs change: AllowedIPsChange) -> [UAPILine] {
        var lines = [UAPILine("public_key", peer.publicKey.hex)]
        if let endpoint = peer.endpoint { lines.append(UAPILine("endpoint", endpoint.description)) }
        lines.append(UAPILine("persistent_keepalive_interval", String(peer.persistentKeepalive ?? 0)))
        switch change {
        case .keep:
            break
        case .add(let added, _):
            lines += added.map { UAPILine("allowed_ip", $0) }
        case .replace(let all):
            lines.append(UAPILine("replace_allowed_ips", "true"))
            lines += all.map { UAPILine("allowed_ip", $0) }
        }
        return lines
    }

    /// Turns the peer's persistent keepalive off and on again (to `interval`), in one request: wireguard-go sends a
    /// keepalive when the interval goes from 0 to non-zero. `update_only` keeps it from creating a removed peer.
    static func sendKeepalive(_ publicKey: PublicKey, interval: UInt16) -> [UAPILine] {
        [UAPILine("public_key", publicKey.hex), UAPILine("update_only", "true"),
         UAPILine("persistent_keepalive_interval", "0"), UAPILine("persistent_keepalive_interval", String(max(interval, 1)))]
    }

    /// Removes the peer with `publicKey` (a no-op for an unknown key).
    static func removePeer(_ publicKey: PublicKey) -> [UAPILine] {
        [UAPILine("public_key", publicKey.hex), UAPILine("remove", "true")]
    }
}

/// Reads a `get=1` answer.
enum UAPIStatus {
    /// The device status in `lines`; `publicKey` is ours, which the protocol does not report.
    /// Unknown keys are ignored (newer implementations add some); fails with `.controlFailed` for a
    /// bad number or key.
    static func parse(_ lines: [UAPILine], publicKey: PublicKey?) throws(WireGuardError) -> WireGuardDeviceStatus {
        var status = WireGuardDeviceStatus(listenPort: 0, publicKey: publicKey, peers: [])
        for line in lines {
            if line.key == "public_key" {
                guard let bytes = Hex.decode(line.value), let key = try? PublicKey(bytes: bytes) else {
                    throw WireGuardError(.controlFailed, "malformed public_key in a UAPI answer")
                }
                status.peers.append(WireGuardPeerStatus(publicKey: key))
                continue
            }
            guard !status.peers.isEmpty else {
                if line.key == "listen_port" { status.listenPort = try number(line) }
                continue
            }
            let index = status.peers.count - 1
            switch line.key {
            case "endpoint": status.peers[index].endpoint = line.text
            case "last_handshake_time_sec":
                let seconds: Int64 = try number(line)
                status.peers[index].lastHandshake = seconds == 0 ? nil : seconds
            case "rx_bytes": status.peers[index].rxBytes = try number(line)
            case "tx_bytes": status.peers[index].txBytes = try number(line)
            case "persistent_keepalive_interval":
                let seconds: UInt16 = try number(line)
                status.peers[index].persistentKeepalive = seconds == 0 ? nil : seconds
            case "allowed_ip": status.peers[index].allowedIPs.append(line.text)
            default: break
            }
        }
        return status
    }

    private static func number<Number: FixedWidthInteger>(_ line: UAPILine) throws(WireGuardError) -> Number {
        guard let value = Number(line.text) else {
            throw WireGuardError(.controlFailed, "malformed \(line.key) in a UAPI answer")
        }
        return value
    }
}

/// Lowercase hexadecimal, as the UAPI writes keys.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }
    }

    /// The bytes of even-length hex text, or nil if it is not hex.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        func nibble(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = 0
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
