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
        /// This machine's own routes the hub approved, as of its last join (the hub's welcome describes it; approvals
        /// made later show at the next join); nil when none.
        public var approved: [String]? = nil

        /// The routes' status.
        public init(advertised: [String], accepted: Bool, installed: [Installed] = [], refused: [Refused] = [],
                    lastError: String? = nil, exitNode: ExitNode? = nil, approved: [String]? = nil) {
            self.advertised = advertised
            self.accepted = accepted
            self.installed = installed
            self.refused = refused
            self.lastError = lastError
            self.exitNode = exitNode
            self.approved = approved
        }

        /// The lines for `riftgate status` (indented by the caller).
        public var lines: [String] {
            var lines = ["routes advertised \(advertised.isEmpty ? "none" : advertised.joined(separator: " ")), "
                         + (accepted ? "accepting peers' routes" : "not accepting peers' routes (--accept-routes)")]
            if let approved { lines.append("  approved on the hub (at join): \(approved.joined(separator: " "))") }
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
        /// Whether the hub had approved this machine as an exit node at its last join; nil unless `advertised`.
        public var approved: Bool? = nil

        /// The exit-node status.
        public init(advertised: Bool, using: String?, state: String?, approved: Bool? = nil) {
            self.advertised = advertised
            self.using = using
            self.state = state
            self.approved = approved
        }

        enum CodingKeys: String, CodingKey { case advertised, using, state, approved }

        /// Writes `using` and `state` as null when absent (the documented shape has all three keys).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(advertised, forKey: .advertised)
            try container.encode(using, forKey: .using)
            try container.encode(state, forKey: .state)
            try container.encodeIfPresent(approved, forKey: .approved)
        }

        /// The line for `riftgate status`.
        public var line: String {
            "exit node: " + (advertised ? "offered by this machine" + (approved == true ? " (approved at join)" : " (not approved at join)")
                             : "not offered") + ", "
                + (using.map { "using \($0): \(state ?? "")" } ?? "using none")
        }
    }
}
