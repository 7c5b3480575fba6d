import RiftProtocol
internal import RiftSupport

/// The allowed IPs a device last set for each peer, so that an update which changes only the endpoint or the keepalive
/// leaves them in place instead of replacing them with the same list.
///
/// Replacing is not atomic: wireguard-go (`replace_allowed_ips`) first removes every allowed IP of the peer, then adds
/// the new ones, while packets flow (the kernel's `WGPEER_F_REPLACE_ALLOWEDIPS` does the same; not measured here). A
/// packet to the peer in between finds no peer and is dropped; one from the peer fails the source check and is
/// dropped (wireguard-go 0.0.20220316, `NamespaceTunnelTests`: 4–6 of 3,000 pings at 1 ms lost while the same peer
/// was set ~9,000 times; none with the list left in place). The agent sets a peer on every data-path change (pair
/// changes right after a connect) and for the controlled side's deferred keepalive, so each of those could cost a
/// packet.
final class PeerAllowedIPsRecord: Sendable {
    private let lists = Locked<[PublicKey: [String]]>([:])

    /// Sets a peer through `apply`, given the allowed IPs to send (nil: leave them, as `change` decides), and records
    /// the outcome: the list once `apply` succeeded, nothing known once it failed. Both devices set peers this way.
    func update<Failure: Error>(_ key: PublicKey, to allowedIPs: [String],
                                _ apply: ([String]?) throws(Failure) -> Void) throws(Failure) {
        let change = change(for: key, to: allowedIPs)
        do throws(Failure) {
            try apply(change)
        } catch {
            forget(key)
            throw error
        }
        didSet(key, change)
    }

    /// The allowed IPs to send for `key`: nil when `allowedIPs` is what was last set (leave them), else `allowedIPs`.
    func change(for key: PublicKey, to allowedIPs: [String]) -> [String]? {
        lists.withLock { $0[key] == allowedIPs ? nil : allowedIPs }
    }

    /// Records a set that succeeded (`allowedIPs` nil: unchanged).
    func didSet(_ key: PublicKey, _ allowedIPs: [String]?) {
        guard let allowedIPs else { return }
        lists.withLock { $0[key] = allowedIPs }
    }

    /// Forgets `key`: the peer was removed, or a set failed and WireGuard's list is not known.
    func forget(_ key: PublicKey) {
        lists.withLock { _ = $0.removeValue(forKey: key) }
    }
}
