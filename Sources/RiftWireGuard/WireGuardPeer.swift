public import RiftProtocol

/// A peer as the agent configures it on the WireGuard device.
public struct WireGuardPeer: Sendable, Hashable {
    /// The peer's WireGuard public key.
    public var publicKey: PublicKey
    /// Where to send its packets; nil leaves the endpoint WireGuard already knows (or learns from
    /// the peer's first authenticated packet).
    public var endpoint: WireGuardEndpoint?
    /// The overlay addresses routed to this peer, such as `100.64.0.3/32` and `fd7a:115c:a1e0::3/128`.
    /// Only canonical prefixes are accepted (no host bits set), and never a default route (`/0`) unless
    /// `isExitNode`.
    public var allowedIPs: [String]
    /// Seconds between keepalives that hold NAT mappings open; nil turns keepalives off.
    public var persistentKeepalive: UInt16?
    /// Whether this peer is the exit node the user chose (`exit_node`): the one peer that may get `0.0.0.0/0` and
    /// `::/0` (with WireGuard's longest-prefix match, the other peers keep their own addresses).
    public var isExitNode = false

    /// Describes a peer.
    public init(publicKey: PublicKey, endpoint: WireGuardEndpoint? = nil, allowedIPs: [String],
                persistentKeepalive: UInt16? = nil) {
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.allowedIPs = allowedIPs
        self.persistentKeepalive = persistentKeepalive
    }
}

/// A UDP address WireGuard sends to: `1.2.3.4:51820` or `[::1]:51820`.
public struct WireGuardEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// An endpoint's IP address.
    public enum Host: Sendable, Hashable {
        case ipv4(IPv4Address)
        case ipv6(IPv6Address)
    }

    /// The IP address.
    public var host: Host
    /// The UDP port (1–65535).
    public var port: UInt16

    /// An endpoint at `host` and `port`.
    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// An endpoint from an address in text (dotted quad or IPv6, without brackets) and a port, as
    /// ICE candidates carry them; nil when the address does not parse or the port is 0.
    public init?(address: String, port: UInt16) {
        guard port != 0 else { return nil }
        if let ipv4 = IPv4Address(address) {
            self.init(host: .ipv4(ipv4), port: port)
        } else if let ipv6 = IPv6Address(address) {
            self.init(host: .ipv6(ipv6), port: port)
        } else {
            return nil
        }
    }

    /// Parses `a.b.c.d:port` or `[v6]:port`; nil for anything else, including port 0 and IPv6 zones.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
              port != 0 else { return nil }
        let address = text[..<colon]
        if address.hasPrefix("["), address.hasSuffix("]"),
           let ipv6 = IPv6Address(String(address.dropFirst().dropLast())) {
            self.init(host: .ipv6(ipv6), port: port)
        } else if let ipv4 = IPv4Address(String(address)) {
            self.init(host: .ipv4(ipv4), port: port)
        } else {
            return nil
        }
    }

    /// The form `wg` and the UAPI use.
    public var description: String {
        switch host {
        case .ipv4(let address): "\(address):\(port)"
        case .ipv6(let address): "[\(address)]:\(port)"
        }
    }
}
