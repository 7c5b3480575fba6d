import RiftProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Which underlay changes matter to the agent: not those on its own interface, on other tunnels, on guest networks
/// (`LocalAddresses.isGuestNetwork`: a container starting or a Docker network removed) or on loopback, not
/// IPv6 link-local or overlay addresses, and among route changes only default routes — the same criteria as the
/// addresses ICE gathers on (`LocalAddresses.forICE`), so a change is reported exactly when it could change a path.
struct UnderlayRelevance: Sendable {
    /// The agent's WireGuard interface (its own addresses and routes come and go with it).
    let ownInterface: String
    /// The overlay prefix (addresses inside it are never underlay).
    let overlay: IPv4Prefix?
    /// The name of an interface index, nil when the interface is gone.
    let interfaceName: @Sendable (Int32) -> String?
    /// Whether a named interface is left alone: a tunnel (no link-layer header) or a guest network.
    let isIgnored: @Sendable (String) -> Bool

    /// The kernel's name for an interface index (if_indextoname), nil when there is no such interface any more.
    static func kernelInterfaceName(_ index: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE))
        guard if_indextoname(UInt32(bitPattern: index), &buffer) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func matters(_ change: UnderlayChange) -> Bool {
        switch change {
        case .lostNotifications:
            return true
        case .route(let index, let isDefault, _):
            return isDefault && interfaceMatters(index.flatMap(interfaceName))
        case .addressAdded(let index, let address), .addressRemoved(let index, let address):
            return addressMatters(address) && interfaceMatters(interfaceName(index))
        case .link(_, let name, _), .linkRemoved(_, let name):
            return interfaceMatters(name ?? change.interface.flatMap(interfaceName))
        }
    }

    /// An interface we cannot name any more (just removed) matters: it may have carried a path.
    private func interfaceMatters(_ name: String?) -> Bool {
        guard let name else { return true }
        return name != ownInterface && name != "lo" && !isIgnored(name)
    }

    private func addressMatters(_ text: String) -> Bool {
        if text.lowercased().hasPrefix("fe80") { return false }
        if let overlay, let v4 = IPv4Address(text), overlay.contains(v4) { return false }
        return text != "127.0.0.1" && text != "::1"
    }
}
