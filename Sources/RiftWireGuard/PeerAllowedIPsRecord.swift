import RiftProtocol
internal import RiftSupport

/// How one set changes a peer's allowed IPs, given what the device last set for it.
enum AllowedIPsChange: Equatable, Sendable {
    /// The same prefixes as last set (in any order): send none, leave WireGuard's list alone.
    case keep
    /// Every prefix last set is still there and `added` are new: wireguard-go can add them without touching the rest.
    case add(added: [String], all: [String])
    /// A prefix went, or nothing is known about the peer: the whole list replaces WireGuard's.
    case replace([String])

    /// The whole list after the set, or nil for `.keep`: what a backend that can only replace (the kernel's `wg set`)
    /// sends.
    var wholeList: [String]? {
        switch self {
        case .keep: nil
        case .add(_, let all): all
        case .replace(let all): all
        }
    }
}

/// The allowed IPs a device last set for each peer, so that an update which changes only the endpoint or the keepalive
/// leaves them in place, and one that only adds prefixes (a route advertised) adds them, instead of replacing the list.
///
/// Replacing is not atomic: wireguard-go (`replace_allowed_ips`) first removes every allowed IP of the peer, then adds
/// the new ones, while packets flow (the kernel's `WGPEER_F_REPLACE_ALLOWEDIPS` does the same; not measured here). A
/// packet to the peer in between finds no peer and is dropped; one from the peer fails the source check and is
/// dropped (wireguard-go 0.0.20220316, `NamespaceTunnelTests`: 4–6 of 3,000 pings at 1 ms lost while the same peer
/// was set ~9,000 times; none with the list left in place). The agent sets a peer on every data-path change (pair
/// changes right after a connect) and for the controlled side's deferred keepalive, so each of those could cost a
/// packet. Removing a single prefix needs `remove_allowed_ip` (wireguard-go) or `WGALLOWEDIP_F_REMOVE_ME` (Linux
/// 6.16 with wireguard-tools' `-` prefix), neither in Debian 12, so a list that loses a prefix is still replaced.
final class PeerAllowedIPsRecord: Sendable {
    private let lists = Locked<[PublicKey: [String]]>([:])

    /// Sets a peer through `apply`, given how its allowed IPs change, and records the outcome: the new list once
    /// `apply` succeeded, nothing known once it failed. Both devices set peers this way.
    func update<Failure: Error>(_ key: PublicKey, to allowedIPs: [String],
                                _ apply: (AllowedIPsChange) throws(Failure) -> Void) throws(Failure) {
        let change = change(for: key, to: allowedIPs)
        do throws(Failure) {
            try apply(change)
        } catch {
            forget(key)
            throw error
        }
        didSet(key, change)
    }

    /// How setting `allowedIPs` (canonical prefixes) for `key` changes what was last set.
    func change(for key: PublicKey, to allowedIPs: [String]) -> AllowedIPsChange {
        guard let last = lists.withLock({ $0[key] }) else { return .replace(allowedIPs) }
        let lastSet = Set(last), newSet = Set(allowedIPs)
        if lastSet == newSet { return .keep }
        guard lastSet.isSubset(of: newSet) else { return .replace(allowedIPs) }
        return .add(added: allowedIPs.filter { !lastSet.contains($0) }, all: allowedIPs)
    }

    /// Records a set that succeeded.
    func didSet(_ key: PublicKey, _ change: AllowedIPsChange) {
        guard let list = change.wholeList else { return }
        lists.withLock { $0[key] = list }
    }

    /// Forgets `key`: the peer was removed, or a set failed and WireGuard's list is not known.
    func forget(_ key: PublicKey) {
        lists.withLock { _ = $0.removeValue(forKey: key) }
    }
}
