import RiftProtocol

// A peer's candidate on this network's own overlay (its WireGuard interface's address, gathered by an implementation
// that does not leave that interface out, as riftgate does with its own) can only be reached through the tunnel it
// would carry: ICE may even succeed over it while an older tunnel is up, and the pair dies with that tunnel. Such
// candidates are dropped on receipt, like any candidate a receiver cannot use (PROTOCOL.md §10.2).
extension Mesh {
    /// `payload` without candidates on the overlay; nil when it was one such candidate alone.
    func withoutOverlayCandidates(_ payload: SignalPayload) -> SignalPayload? {
        guard let welcome else { return payload }
        let onOverlay = { (line: String) in Self.candidateAddress(line).map { welcome.contains($0) } ?? false }
        var filtered = payload
        switch payload.body {
        case .candidate(let line) where onOverlay(line):
            return nil
        case .description(var ice, let wireguard):
            ice.candidates.removeAll(where: onOverlay)
            filtered.body = .description(ice, wireguard)
        default:
            break
        }
        return filtered
    }

    /// The connection address of a candidate line (`candidate:<foundation> <component> <transport> <priority>
    /// <address> <port> typ …`), nil when the line has no such field.
    static func candidateAddress(_ line: String) -> String? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        return fields.count > 5 ? String(fields[4]) : nil
    }
}

extension Welcome {
    /// Whether `address` (numeric) lies in this network's overlay prefixes.
    func contains(_ address: String) -> Bool {
        if let ipv4 = IPv4Address(address) { return ipv4Prefix.contains(ipv4) }
        if let ipv6 = IPv6Address(address) { return ipv6Prefix.contains(ipv6) }
        return false
    }
}
