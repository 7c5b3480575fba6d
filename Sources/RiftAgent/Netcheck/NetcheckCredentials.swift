import RiftProtocol

extension NetworkCheck {
    /// Takes the TURN credentials from the hub, asked with the network's token (`request`, PROTOCOL.md §6.12), instead
    /// of from a running agent. Sets `turnServers` (empty when the network has no TURN server) or says in
    /// `turnNotChecked` why TURN cannot be checked. Returns the refusal only when the hub refused the token: netcheck
    /// still prints its report, then fails, since a wrong token is the user's mistake, not a property of the network.
    public mutating func takeTURNCredentials(from request: HubICEServerRequest) async -> (code: String, message: String)? {
        switch await request.run() {
        case .servers(let servers):
            turnServers = servers.turn.map(TURNCredentialSet.init)
            turnCredentialsFrom = "hub"
            return nil
        case .hubTooOld:
            turnNotChecked = "hub too old to answer ice_servers: TURN not checked"
            return nil
        case .refused(let code, let message):
            turnNotChecked = "the hub refused the token (\(code))"
            let hint = code == ErrorCode.unauthorized.rawValue
                ? "the token is wrong for network \(request.network), expired or revoked, or the network name is wrong" : message
            return (code, hint)
        case .failed(let reason):
            turnNotChecked = "cannot ask the hub for TURN credentials: \(reason)"
            return nil
        }
    }

    /// Takes the TURN credentials from the running agent of `configPath` (`turnCredentials(configPath:hubHost:)`).
    public mutating func takeTURNCredentials(fromAgentOf configPath: String) {
        switch Self.turnCredentials(configPath: configPath, hubHost: hubHost) {
        case .success(let servers):
            turnServers = servers
            turnCredentialsFrom = "agent"
        case .failure(let error):
            turnNotChecked = "\(error)"
        }
    }
}
