/// What `riftgate status` shows: the hub connection and every peer, from WireGuard's and ICE's own state.
public struct AgentStatus: Codable, Sendable, Equatable {
    /// The hub session.
    public struct Hub: Codable, Sendable, Equatable {
        public var url: String
        public var state: HubState
        public var lastError: String?
    }

    /// The hub session's state, as `riftgate status --json` spells it.
    public enum HubState: String, Codable, Sendable, Equatable {
        /// Nothing published yet.
        case starting
        /// The first connection is under way.
        case connecting
        /// Welcomed by the hub.
        case connected
        /// Lost; the agent is reconnecting with backoff.
        case disconnected
        /// The network changed under the connection (or the machine resumed): reconnecting at once.
        case reconnecting
    }

    /// A peer's overall state: `connected` only while the WireGuard handshake is recent; otherwise the ICE state.
    /// Encoded as one string (`connected`, `gathering`, `failed`…), the JSON that scripts read.
    public enum PeerState: Codable, Sendable, Equatable {
        /// The WireGuard handshake is recent.
        case connected
        /// No recent handshake: what ICE is doing.
        case ice(ICEConnectivity)
        /// The local address of its pair is gone (the network changed), or its path died and a retry failed while
        /// the last handshake is still recent; a new generation is on its way.
        case reestablishing

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            if text == "connected" {
                self = .connected
            } else if text == "re-establishing" {
                self = .reestablishing
            } else if let state = ICEConnectivity(rawValue: text) {
                self = .ice(state)
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown peer state \(text)"))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }

        /// The string shown and encoded.
        public var description: String {
            switch self {
            case .connected: "connected"
            case .reestablishing: "re-establishing"
            case .ice(let state): state.rawValue
            }
        }
    }

    /// What kind of pair carries a peer's traffic.
    public enum PathType: String, Codable, Sendable, Equatable, CaseIterable {
        /// Host candidates on both ends.
        case host
        /// At least one server- or peer-reflexive end, no relay.
        case serverReflexive = "server-reflexive"
        /// Through a TURN relay.
        case relayed
    }

    /// How WireGuard reaches a peer.
    public enum PathMode: String, Codable, Sendable, Equatable {
        /// WireGuard straight to the peer's listen port.
        case direct
        /// WireGuard straight to the remote candidate, from the ICE socket's port (nftables port hand-over).
        case handedOver = "hand-over"
        /// Through the agent, over the ICE component.
        case forwarded
    }

    /// One remote peer.
    public struct Peer: Codable, Sendable, Equatable {
        public var name: String
        public var publicKey: String
        public var ipv4: String
        public var ipv6: String
        public var state: PeerState
        /// Nil before a pair is selected.
        public var pathType: PathType?
        /// Nil before a path is configured.
        public var pathMode: PathMode?
        public var pathReason: String
        public var localCandidate: String?
        public var remoteCandidate: String?
        public var endpoint: String?
        /// Seconds since the last WireGuard handshake, nil if none yet.
        public var lastHandshakeSecondsAgo: Int64?
        public var rxBytes: UInt64
        public var txBytes: UInt64
        public var iceState: ICEConnectivity
        public var lastRecoveryReason: String?
        /// ICE restarts with this peer in the current session (the session's generation); nil from older agents.
        public var iceRestarts: Int64? = nil
        /// Why the pair in use is relayed (candidate kinds each side had, relay forced after failures, …); nil when
        /// it is not relayed, and from older agents.
        public var relayReason: String? = nil
        /// Its DNS name, `<dns_name>.<network domain>` (PROTOCOL.md §6.13); nil when the hub speaks no version 3.
        public var dnsName: String? = nil
        /// What to do about a peer that stays unreachable (`PeerHint`): set after failed attempts in a row while the
        /// hub is connected; nil otherwise, and from older agents.
        public var hint: String? = nil
        /// Seconds since the hub said the peer left (its hub connection ended) while its tunnel kept working; the
        /// tunnel stays until it fails (Mesh+AbsentPeers). Nil while the hub lists the peer, and from older agents.
        public var absentFromHubSeconds: Int64? = nil
    }

    public var name: String
    public var publicKey: String
    public var network: String
    public var interface: String
    public var ipv4: String?
    public var ipv6: String?
    public var listenPort: UInt16
    public var backend: String
    public var hub: Hub
    public var peers: [Peer]
    /// This agent's own DNS name; nil when the hub speaks no version 3 (or before the welcome).
    public var dnsName: String? = nil
    /// The agent's resolver for peers' names; nil when the hub speaks no version 3 or with `dns = false`.
    public var dns: DNS? = nil

    /// The agent's resolver for peers' names (`<dns_name>.<domain>`).
    public struct DNS: Codable, Sendable, Equatable {
        /// The network's domain, e.g. `home.rift`.
        public var domain: String
        /// Where it answers first, the overlay IPv4 address (`100.64.0.1:53`); nil when it could not start (see the log).
        public var resolver: String?
        /// Every address it answers on (IPv4 and IPv6).
        public var resolvers: [String]
    }

    /// How the network's names are registered with this host; nil from older agents.
    public var names: Names? = nil
    /// Subnet routes: advertised, accepted, installed and refused; nil from older agents.
    public var routes: Routes? = nil

    /// How the network's names are registered with the host (`names` in the configuration).
    public struct Names: Codable, Sendable, Equatable {
        /// The network's domain (`home.rift`); nil when nothing is registered because the hub speaks no version 3
        /// (or before the welcome).
        public var domain: String?
        /// The strategy: `systemd-resolved`, `hosts` or `off`.
        public var registration: NameRegistrationKind
        /// The hosts file holding the block, for the hosts strategy.
        public var hostsFile: String?
        /// Why the latest registration failed (names are then not registered); nil when it worked.
        public var lastError: String?

        public init(domain: String?, registration: NameRegistrationKind, hostsFile: String? = nil, lastError: String? = nil) {
            self.domain = domain
            self.registration = registration
            self.hostsFile = hostsFile
            self.lastError = lastError
        }

        /// One line for `riftgate status`.
        public var text: String {
            let place = switch registration {
            case .resolved: "systemd-resolved (split DNS)"
            case .hosts: "hosts file \(hostsFile ?? "-")"
            case .off: "off"
            }
            let what = domain.map { "\($0) via \(place)" } ?? "\(place), nothing registered (no domain from the hub)"
            return "names \(what)" + (lastError.map { " — NOT registered: \($0)" } ?? "")
        }
    }
}

extension AgentStatus {
    /// A readable table for people.
    public var text: String {
        var lines = [
            "riftgate \(name) (\(publicKey))" + (dnsName.map { ", \($0)" } ?? ""),
            "  network \(network) on \(interface) [\(backend)]: \(ipv4 ?? "-") \(ipv6 ?? "-"), WireGuard port \(listenPort)",
            "  hub \(hub.url): \(hub.state.rawValue)" + (hub.lastError.map { " (\($0))" } ?? ""),
        ]
        if let dns { lines.append("  resolver for *.\(dns.domain): \(dns.resolvers.isEmpty ? "not running (see the log)" : dns.resolvers.joined(separator: " "))") }
        if let names { lines.append("  " + names.text) }
        if let routes { lines += routes.lines.map { "  " + $0 } }
        if peers.isEmpty { lines.append("  no other peers") }
        for peer in peers {
            let handshake = peer.lastHandshakeSecondsAgo.map { "\($0)s ago" } ?? "never"
            lines.append("  peer \(peer.name) \(peer.ipv4) \(peer.ipv6)" + (peer.dnsName.map { " \($0)" } ?? ""))
            lines.append("    key \(peer.publicKey)")
            lines.append("    state \(peer.state.description), path \(peer.pathType?.rawValue ?? "-") \(peer.pathMode?.rawValue ?? "") — \(peer.pathReason)")
            if let local = peer.localCandidate, let remote = peer.remoteCandidate {
                lines.append("    candidates local \(local) ⇄ remote \(remote)")
            }
            lines.append("    endpoint \(peer.endpoint ?? "-"), handshake \(handshake), rx \(peer.rxBytes) B, tx \(peer.txBytes) B")
            if let reason = peer.relayReason { lines.append("    relayed because: \(reason)") }
            if let reason = peer.lastRecoveryReason { lines.append("    last recovery: \(reason)") }
            if let hint = peer.hint { lines.append("    hint: \(hint)") }
            if let absent = peer.absentFromHubSeconds {
                lines.append("    not on the hub for \(absent) s: the tunnel is kept while it works")
            }
        }
        return lines.joined(separator: "\n")
    }
}
