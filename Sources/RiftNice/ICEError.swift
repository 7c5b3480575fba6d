/// Why an ICE operation failed: a stable `code` for programs, the C library's error code where it gave one,
/// and a `reason` for people. The reason never contains a credential.
public struct ICEError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// The `ICEEventLoop` has been shut down; nothing more runs on it.
        case loopStopped
        /// The session was closed.
        case sessionClosed
        /// The configuration is unusable (bad port range, force-relay without a TURN server, bad local address).
        case invalidConfiguration
        /// A STUN or TURN server name did not resolve to an address.
        case serverResolutionFailed
        /// libnice refused to create the agent or its stream, or rejected the relay settings.
        case agentSetupFailed
        /// libnice could not start gathering (no usable local address, or the port range is exhausted).
        case gatheringFailed
        /// The remote ICE username fragment or password is malformed.
        case invalidCredentials
        /// The remote candidate line could not be parsed or is not a UDP candidate of component 1.
        case invalidCandidate
        /// Too many remote candidates arrived before the remote credentials.
        case tooManyPendingCandidates
    }

    /// The machine-readable kind of failure.
    public var code: Code
    /// The error code the C library reported (a `GError` code), or 0 when it reported only failure.
    public var cErrorCode: Int32
    /// A human-readable explanation.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, cErrorCode: Int32 = 0) {
        self.code = code
        self.reason = reason
        self.cErrorCode = cErrorCode
    }

    public var description: String {
        cErrorCode == 0 ? "\(code.rawValue): \(reason)" : "\(code.rawValue): \(reason) (C error \(cErrorCode))"
    }
}
