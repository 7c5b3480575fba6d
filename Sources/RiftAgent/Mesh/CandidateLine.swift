/// The parts of an SDP candidate line the mesh reads (RFC 8839 `candidate-attribute`, with or without `a=`):
/// `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …`.
///
/// The one parse for every reader of candidate lines (host endpoints, overlay filtering, candidate tallies, the
/// timeline), so they cannot disagree on what a line says. Fields are separated by one or more spaces. libnice does
/// its own, complete parse when the line is added to a session; this one only refuses what has not the fixed fields.
struct CandidateLine: Sendable, Equatable {
    /// The connection address as written (numeric for every candidate riftgate or libnice produces).
    var address: Substring
    var port: UInt16
    /// `host`, `srflx`, `prflx`, `relay`, or whatever else the sender wrote.
    var type: Substring

    /// Nil when the line has fewer than eight fields, does not start with `candidate:`, has no `typ` in seventh
    /// place, or its port is not a number in 0…65535.
    init?(_ line: String) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 8, fields[0].hasPrefix("candidate:") || fields[0].hasPrefix("a=candidate:"),
              fields[6] == "typ", let port = UInt16(fields[5]) else { return nil }
        address = fields[4]
        self.port = port
        type = fields[7]
    }

    var isHost: Bool { type == "host" }
    var isRelayed: Bool { type == "relay" }
}
