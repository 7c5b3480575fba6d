import RiftProtocol

// A peer's candidate on this network's own overlay (its WireGuard interface's address, gathered by an implementation
// that does not leave that interface out, as riftgate does with its own) can only be reached through the tunnel it
// would carry: ICE may even succeed over it while an older tunnel is up, and the pair dies with that tunnel. Such
// candidates are dropped on receipt, like any candidate a receiver cannot use (PROTOCOL.md §10.2).
extension Mesh {
    /// `payload` without candidates on the overlay; nil when it was one such candidate alone.
    func withoutOverlayCandidates(_ payload: SignalPayload) -> SignalPayload? {
        guard let welcome else { return payload }
        let onOverlay = { (line: String) in CandidateLine(line).map { welcome.contains(String($0.address)) } ?? false }
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

    /// Whether a selected pair's remote end is on the overlay. Dropping signaled candidates does not cover a
    /// peer-reflexive one: a peer that sends its checks from its overlay address, through a tunnel that is still up,
    /// makes ICE learn that address from the check itself. WireGuard is not pointed at such a pair; the generation
    /// waits for ICE to select another (a nominated underlay pair replaces it), or is retried after the negotiation
    /// deadline like any generation that found no pair.
    func isOnOverlay(_ remote: CandidateEndpoint) -> Bool {
        welcome?.contains(remote.address) ?? false
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
