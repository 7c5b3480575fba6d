import RiftSupport

/// Why the resolver could not start: an address that is not an IP address, or a socket that could not be opened or
/// bound (port 53 taken, no permission), with the system's reason.
public struct DNSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, in words (`"bind 100.64.0.1:53"`).
    public var operation: String
    /// The system call's error, when one failed.
    public var systemError: SystemCallError?

    public init(_ operation: String, _ systemError: SystemCallError? = nil) {
        self.operation = operation
        self.systemError = systemError
    }

    public var description: String {
        systemError.map { "\(operation): \($0.reason)" } ?? operation
    }
}
