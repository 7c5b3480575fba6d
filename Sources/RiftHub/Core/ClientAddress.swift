import RiftProtocol

/// The address a client connects from, as far as the hub can trust it.
///
/// Behind a reverse proxy every client arrives from the proxy's address, so the per-address failure limiter would
/// either see one client (and lock everyone out) or, for a loopback proxy, none. A proxy that the operator lists in
/// `trusted_proxies` appends the real client address to `X-Forwarded-For`; the hub takes the **last** entry, the one
/// that proxy wrote (earlier entries come from the client and prove nothing). From any other peer the header is
/// ignored, since a client could write whatever it likes there.
public enum ClientAddress {
    /// Proxies trusted by default: a TLS proxy on the same machine, as in the nginx example.
    public static let defaultTrustedProxies = ["127.0.0.1", "::1"]

    /// The client's address: the last `X-Forwarded-For` entry when `remote` is a trusted proxy and that entry is an IP
    /// address; otherwise `remote` itself.
    public static func resolve(remote: String, forwardedFor: String?, trustedProxies: [String]) -> String {
        guard let forwardedFor, trustedProxies.contains(canonical(remote)) else { return remote }
        guard let last = forwardedFor.split(separator: ",").last else { return remote }
        let candidate = String(last.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        return isIPAddress(candidate) ? canonical(candidate) : remote
    }

    /// Whether `text` is an IPv4 or IPv6 address literal.
    public static func isIPAddress(_ text: String) -> Bool { IPv4Address(text) != nil || IPv6Address(text) != nil }

    /// An address in the form it is compared in: IPv4 as is, IPv6 in RFC 5952 text, IPv4-mapped IPv6 as IPv4.
    static func canonical(_ text: String) -> String {
        if text.lowercased().hasPrefix("::ffff:"), let v4 = IPv4Address(String(text.dropFirst(7))) { return v4.description }
        if let v6 = IPv6Address(text) { return v6.description }
        return text
    }
}
