public import RiftProtocol

/// What WireGuard reports about one peer.
public struct WireGuardPeerStatus: Sendable, Hashable {
    /// The peer's public key.
    public var publicKey: PublicKey
    /// The endpoint WireGuard currently sends to (`1.2.3.4:51820` / `[::1]:51820`), nil if none.
    public var endpoint: String?
    /// When the last handshake completed, in seconds since the Unix epoch; nil if never.
    /// A handshake older than about three minutes means the session is dead.
    public var lastHandshake: Int64?
    /// Bytes received from the peer (including WireGuard overhead).
    public var rxBytes: UInt64
    /// Bytes sent to the peer (including WireGuard overhead).
    public var txBytes: UInt64
    /// The peer's allowed IPs, as canonical prefixes.
    public var allowedIPs: [String]
    /// The keepalive interval in seconds, nil when off.
    public var persistentKeepalive: UInt16?

    /// Describes a peer's state.
    public init(publicKey: PublicKey, endpoint: String? = nil, lastHandshake: Int64? = nil, rxBytes: UInt64 = 0,
                txBytes: UInt64 = 0, allowedIPs: [String] = [], persistentKeepalive: UInt16? = nil) {
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.lastHandshake = lastHandshake
        self.rxBytes = rxBytes
        self.txBytes = txBytes
        self.allowedIPs = allowedIPs
        self.persistentKeepalive = persistentKeepalive
    }
}

/// What WireGuard reports about the device.
public struct WireGuardDeviceStatus: Sendable, Hashable {
    /// The UDP port it listens on (0 if not listening).
    public var listenPort: UInt16
    /// Our public key; nil when no private key is set or it could not be derived.
    public var publicKey: PublicKey?
    /// Every configured peer.
    public var peers: [WireGuardPeerStatus]

    /// Describes a device's state.
    public init(listenPort: UInt16, publicKey: PublicKey?, peers: [WireGuardPeerStatus]) {
        self.listenPort = listenPort
        self.publicKey = publicKey
        self.peers = peers
    }

    /// The peer with `publicKey`, if configured.
    public func peer(_ publicKey: PublicKey) -> WireGuardPeerStatus? {
        peers.first { $0.publicKey == publicKey }
    }
}
