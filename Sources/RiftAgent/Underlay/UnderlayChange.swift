/// One change to the host's network configuration that may affect the agent's underlay, as rtnetlink reports it.
///
/// Interfaces are named by index: a removed link's name may already be gone when the change is read.
enum UnderlayChange: Equatable, Sendable {
    /// An address was added to an interface (IPv4 or IPv6, numeric text).
    case addressAdded(interface: Int32, address: String)
    /// An address was removed from an interface.
    case addressRemoved(interface: Int32, address: String)
    /// A link was added or changed; `up` is whether it is administratively up and has a carrier (IFF_UP and
    /// IFF_RUNNING).
    case link(interface: Int32, name: String?, up: Bool)
    /// A link was removed.
    case linkRemoved(interface: Int32, name: String?)
    /// A route in the main table was added or removed, through `interface` when it names one; `isDefault` when it is
    /// a default route (0.0.0.0/0 or ::/0).
    case route(interface: Int32?, isDefault: Bool, removed: Bool)
    /// The kernel dropped notifications (the socket's buffer overflowed): anything may have changed.
    case lostNotifications

    /// The interface the change is about, if any.
    var interface: Int32? {
        switch self {
        case .addressAdded(let index, _), .addressRemoved(let index, _), .link(let index, _, _), .linkRemoved(let index, _):
            return index
        case .route(let index, _, _):
            return index
        case .lostNotifications:
            return nil
        }
    }
}
