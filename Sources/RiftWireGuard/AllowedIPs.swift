import RiftProtocol

/// Checks allowed IPs before they reach WireGuard, where a stray newline could inject UAPI lines and
/// a `/0` would pull all traffic to one peer.
enum AllowedIPs {
    /// The canonical text of each prefix (RFC 5952 for IPv6), in order, without duplicates.
    /// Fails with `.invalidConfiguration` for anything that is not a prefix, has host bits set, or
    /// is a default route (allowed only with `allowDefault`, for the user's chosen exit node).
    static func canonical(_ entries: [String], allowDefault: Bool = false) throws(WireGuardError) -> [String] {
        var result: [String] = []
        for entry in entries {
            let canonical: String
            let length: Int
            if let prefix = IPv4Prefix(entry) {
                (canonical, length) = (prefix.description, prefix.length)
            } else if let prefix = IPv6Prefix(entry) {
                (canonical, length) = (prefix.description, prefix.length)
            } else {
                throw WireGuardError(.invalidConfiguration, "allowed IP \"\(entry)\" is not an address prefix without host bits")
            }
            guard length > 0 || allowDefault else {
                throw WireGuardError(.invalidConfiguration, "allowed IP \(entry) is a default route, which is never given to a peer")
            }
            if !result.contains(canonical) { result.append(canonical) }
        }
        return result
    }
}
