/// How the agent registers the network's names with the host (`names` in the configuration, `riftgate up --names`).
public enum NameRegistrationMode: String, Sendable, Equatable, CaseIterable {
    /// systemd-resolved when it serves this host's lookups (see `ResolvedProbe`), otherwise the hosts file.
    case auto
    /// systemd-resolved, per link (`resolvectl dns` and a `~domain` routing domain): split DNS to the agent's resolver.
    case resolved
    /// A marked block in the hosts file (`hosts_file`, default /etc/hosts), one line per peer and address family.
    case hosts
    /// Nothing registered: names are only shown by `riftgate status` and accepted by `riftgate ping`.
    case off
}

/// What is registered, as `riftgate status` spells it.
public enum NameRegistrationKind: String, Sendable, Equatable, Codable {
    case resolved = "systemd-resolved"
    case hosts
    case off
}
