/// What can stop the agent, each with a message a person can act on.
public enum AgentError: Error, CustomStringConvertible, Sendable {
    /// The configuration or secrets file is missing, malformed or unsafe.
    case configuration(String)
    /// The hub refused us for good (revoked token or key, unknown network): retrying cannot help.
    case permanentRefusal(code: String, message: String)
    /// A privilege is missing.
    case privilege(String)
    /// Something in the system (interface, socket, process) failed.
    case system(String)

    public var description: String {
        switch self {
        case .configuration(let message): "configuration: \(message)"
        case .permanentRefusal(let code, let message): "the hub refused this agent (\(code)): \(message)"
        case .privilege(let message): message
        case .system(let message): message
        }
    }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch self {
        case .configuration: 78   // EX_CONFIG
        case .permanentRefusal: 77  // EX_NOPERM
        case .privilege: 77
        case .system: 71            // EX_OSERR
        }
    }
}
