public import RiftProtocol

/// What the agent needs from a WireGuard device; a fake implements it in tests.
///
/// Every method is synchronous and bounded in time (a UAPI exchange or one short `ip`/`wg` run);
/// call them from any thread. After `shutdown()` every other method fails with `.shutDown`.
public protocol WireGuardDevice: AnyObject, Sendable {
    /// The network interface's name, such as `riftgate0`.
    var interfaceName: String { get }
    /// The UDP port WireGuard listens on (the port it chose when configured with 0).
    var listenPort: UInt16 { get }
    /// Which implementation drives the interface.
    var backend: WireGuardBackend { get }
    /// Adds the peer, or updates it: its keepalive is replaced, its endpoint is set when given and otherwise left as
    /// WireGuard last saw it, and its allowed IPs are replaced when they differ from what this device last set for
    /// the peer (an unchanged list is left in place, and wireguard-go only adds to one that grew: replacing leaves a
    /// moment without any, in which packets to and from the peer are dropped; see `PeerAllowedIPsRecord`). Fails with `.invalidConfiguration` for a malformed or
    /// default-route allowed IP, and with the backend's error when WireGuard refuses.
    func setPeer(_ peer: WireGuardPeer) throws(WireGuardError)
    /// Removes the peer; removing an unknown peer succeeds. Fails when WireGuard cannot be reached.
    func removePeer(_ publicKey: PublicKey) throws(WireGuardError)
    /// Makes WireGuard send one keepalive to the peer now, leaving its persistent keepalive at `interval` seconds:
    /// the interval is set to 0 and back, which WireGuard (wireguard-go and the kernel alike) answers with an
    /// immediate keepalive. Does nothing for an unknown peer; fails when WireGuard cannot be reached.
    func sendKeepalive(to publicKey: PublicKey, interval: UInt16) throws(WireGuardError)
    /// Reads the listen port, our public key and every peer's counters and last handshake.
    /// Fails when WireGuard cannot be reached (for example wireguard-go has exited).
    func status() throws(WireGuardError) -> WireGuardDeviceStatus
    /// Removes the interface (and with it its routes) and stops wireguard-go when it runs one.
    /// Idempotent, never fails, bounded to a few seconds; safe to call from several threads and
    /// from the code that handles SIGINT/SIGTERM (a dispatch source or task, not a raw `sigaction`
    /// handler, where only async-signal-safe calls are allowed). Returns once teardown is complete.
    func shutdown()
}

/// Which WireGuard implementation drives the interface.
public enum WireGuardBackend: String, Sendable, Hashable {
    /// The Linux kernel module (`ip link add … type wireguard`, configured with `wg`).
    case kernel
    /// `wireguard-go`, run as our child process and configured over its UAPI socket.
    case userspace
}
