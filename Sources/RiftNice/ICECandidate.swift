/// The kind of an ICE candidate (RFC 8445 section 5.1.1), with its SDP `typ` token as raw value.
public enum ICECandidateType: String, Sendable, Hashable {
    /// An address of a local interface.
    case host
    /// The address a STUN server saw (the outside of a NAT).
    case serverReflexive = "srflx"
    /// An address learned from a peer's connectivity check.
    case peerReflexive = "prflx"
    /// An address allocated on a TURN server.
    case relayed = "relay"
}

/// One end of a candidate pair: its kind and transport address, and its SDP line when known.
public struct ICECandidateInfo: Sendable, Hashable, CustomStringConvertible {
    /// The candidate's kind.
    public var type: ICECandidateType
    /// The IP address, in numeric form.
    public var address: String
    /// The UDP port.
    public var port: UInt16
    /// The SDP attribute (`candidate:...`), when libnice could produce it.
    public var sdp: String?
    /// For a local candidate, the address of the host socket that sends and receives for it (RFC 8445 "base": a host
    /// candidate is its own base, a server- or peer-reflexive one has the host socket behind the NAT); nil when unknown.
    public var baseAddress: String?
    /// The base's UDP port; nil when unknown.
    public var basePort: UInt16?

    /// Creates a candidate description.
    public init(type: ICECandidateType, address: String, port: UInt16, sdp: String? = nil,
                baseAddress: String? = nil, basePort: UInt16? = nil) {
        self.type = type
        self.address = address
        self.port = port
        self.sdp = sdp
        self.baseAddress = baseAddress
        self.basePort = basePort
    }

    public var description: String {
        address.contains(":") ? "\(type.rawValue) [\(address)]:\(port)" : "\(type.rawValue) \(address):\(port)"
    }
}

/// The text forms of a candidate line: peers exchange `candidate:...`; libnice reads and writes `a=candidate:...`.
enum CandidateAttribute {
    /// The longest candidate line accepted from a peer; real ones are under 200 bytes.
    static let maxLength = 512

    /// Returns the `candidate:...` form of `line` (with or without `a=`, surrounding whitespace removed), or nil
    /// when it is not a candidate attribute or is too long.
    static func normalized(_ line: String) -> String? {
        var text = Substring(line)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        if text.hasPrefix("a=") { text = text.dropFirst(2) }
        guard text.hasPrefix("candidate:"), text.utf8.count <= maxLength,
              !text.contains(where: { $0.isNewline || $0 == "\0" })
        else { return nil }
        return String(text)
    }

    /// The form libnice's SDP parser requires.
    static func libniceForm(_ normalized: String) -> String { "a=" + normalized }

    /// The form peers exchange, from libnice's generated line; nil if libnice produced something unexpected.
    static func exchangeForm(_ generated: String) -> String? { normalized(generated) }
}
