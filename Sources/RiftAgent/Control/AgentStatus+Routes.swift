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

        /// The routes' status.
        public init(advertised: [String], accepted: Bool, installed: [Installed] = [], refused: [Refused] = [],
                    lastError: String? = nil) {
            self.advertised = advertised
            self.accepted = accepted
            self.installed = installed
            self.refused = refused
            self.lastError = lastError
        }

        /// The lines for `riftgate status` (indented by the caller).
        public var lines: [String] {
            var lines = ["routes advertised \(advertised.isEmpty ? "none" : advertised.joined(separator: " ")), "
                         + (accepted ? "accepting peers' routes" : "not accepting peers' routes (--accept-routes)")]
            for route in installed { lines.append("  route \(route.route) via \(route.peer)") }
            for route in refused { lines.append("  route \(route.route) of \(route.peer) REFUSED: \(route.reason)") }
            if let lastError { lines.append("  routes NOT fully applied: \(lastError)") }
            return lines
        }
    }
}
