extension AgentStatus {
    /// Subnet routes: what this machine advertises, whether it accepts the peers' routes, and what it installed or
    /// refused (`routes` in `riftgate status --json`).
    public struct Routes: Codable, Sendable, Equatable {
        /// One installed route.
        public struct Installed: Codable, Sendable, Equatable {
            /// The peer routed through (its name when known, else its public key).
            public var peer: String
            /// The route, e.g. `192.168.1.0/24`.
            public var route: String
            /// An installed route through `peer`.
            public init(peer: String, route: String) {
                self.peer = peer
                self.route = route
            }
        }

        /// One refused route.
        public struct Refused: Codable, Sendable, Equatable {
            /// The peer that offered it.
            public var peer: String
            /// The route.
            public var route: String
            /// Why it is not installed.
            public var reason: String
            /// A refused route of `peer`.
            public init(peer: String, route: String, reason: String) {
                self.peer = peer
                self.route = route
                self.reason = reason
            }
        }

        /// The routes this machine advertises (approval is the hub's business).
        public var advertised: [String]
        /// Whether this machine installs the peers' approved routes (`accept_routes`).
        public var accepted: Bool
        /// The routes installed.
        public var installed: [Installed]
        /// The routes refused.
        public var refused: [Refused]
        /// Why loading the forwarding table or a route failed; nil when everything applied.
        public var lastError: String? = nil
        /// Exit nodes: whether this machine offers itself, and which peer it uses (`exit_node` in --json).
        public var exitNode: ExitNode? = nil

        enum CodingKeys: String, CodingKey {
            case advertised, accepted, installed, refused, lastError, exitNode = "exit_node"
        }

        /// The routes' status.
        public init(advertised: [String], accepted: Bool, installed: [Installed] = [], refused: [Refused] = [],
                    lastError: String? = nil, exitNode: ExitNode? = nil) {
            self.advertised = advertised
            self.accepted = accepted
            self.installed = installed
            self.refused = refused
            self.lastError = lastError
            self.exitNode = exitNode
        }

        /// The lines for `riftgate status` (indented by the caller).
        public var lines: [String] {
            var lines = ["routes advertised \(advertised.isEmpty ? "none" : advertised.joined(separator: " ")), "
                         + (accepted ? "accepting peers' routes" : "not accepting peers' routes (--accept-routes)")]
            for route in installed { lines.append("  route \(route.route) via \(route.peer)") }
            for route in refused { lines.append("  route \(route.route) of \(route.peer) REFUSED: \(route.reason)") }
            if let lastError { lines.append("  routes NOT fully applied: \(lastError)") }
            if let exitNode { lines.append(exitNode.line) }
            return lines
        }
    }
}

extension AgentStatus {
    /// Exit nodes (issue 16 item 3): `{advertised, using, state}` under `routes.exit_node` in `riftgate status --json`.
    public struct ExitNode: Codable, Sendable, Equatable {
        /// Whether this machine offers itself as an exit node (`advertise_exit_node`).
        public var advertised: Bool
        /// The peer this machine sends all its traffic through (`exit_node`), null when none.
        public var using: String?
        /// `active`, or `waiting: <reason>` (nothing is routed through the peer); null when `using` is.
        public var state: String?

        /// The exit-node status.
        public init(advertised: Bool, using: String?, state: String?) {
            self.advertised = advertised
            self.using = using
            self.state = state
        }

        enum CodingKeys: String, CodingKey { case advertised, using, state }

        /// Writes `using` and `state` as null when absent (the documented shape has all three keys).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(advertised, forKey: .advertised)
            try container.encode(using, forKey: .using)
            try container.encode(state, forKey: .state)
        }

        /// The line for `riftgate status`.
        public var line: String {
            "exit node: " + (advertised ? "offered by this machine" : "not offered") + ", "
                + (using.map { "using \($0): \(state ?? "")" } ?? "using none")
        }
    }
}
