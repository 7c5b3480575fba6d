import Glibc
internal import RiftSupport

/// Why a WireGuard device could not be opened, configured or read.
public struct WireGuardError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to it.
    public enum Code: String, Sendable, Hashable {
        /// The process lacks a privilege (CAP_NET_ADMIN, or root for `/var/run/wireguard`).
        case missingCapability
        /// A required program or kernel feature is not installed; `reason` names the package.
        case notInstalled
        /// The interface name is already used by another interface.
        case interfaceExists
        /// The configuration, a peer or an allowed IP is malformed.
        case invalidConfiguration
        /// An `ip` or `wg` command failed; `reason` carries its standard error.
        case commandFailed
        /// The UAPI exchange with wireguard-go failed or it answered with an error number.
        case controlFailed
        /// wireguard-go exited; `reason` carries its last output.
        case processExited
        /// A bounded wait ran out.
        case timedOut
        /// The device has been shut down.
        case shutDown
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation (never holds a key).
    public var reason: String
    /// The system or UAPI error number (positive, as in `errno.h`), or 0 when there is none.
    public var errno: Int32

    /// Describes a failure.
    public init(_ code: Code, _ reason: String, errno: Int32 = 0) {
        self.code = code
        self.reason = reason
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? reason : "\(reason) (\(SystemCallError.reason(for: errno)))"
    }
}
