/// A DNS record type as a number (RFC 1035 §3.2.2), with names for the types the resolver answers or refers to.
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// `ANY` (`*`, 255): every record of the name.
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .aaaa: "AAAA"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

/// A response code (RFC 1035 §4.1.1), the ones the resolver sends.
public enum DNSResponseCode: UInt8, Sendable, Hashable {
    /// The name exists (with records of the type asked, or none: NODATA).
    case noError = 0
    /// The query could not be read (no question, or several).
    case formatError = 1
    /// The name does not exist in the domain.
    case nameError = 3
    /// An opcode other than QUERY.
    case notImplemented = 4
    /// Not ours to answer: outside the domain and the peers' reverse names. Never forwarded.
    case refused = 5
}

/// One resource record the resolver answers with; always class IN.
public struct DNSRecord: Sendable, Hashable {
    /// What the record holds.
    public enum Data: Sendable, Hashable {
        /// An IPv4 address, dotted quad.
        case a(String)
        /// An IPv6 address, in any form `inet_pton` reads.
        case aaaa(String)
        /// A host name (fully qualified, without trailing dot).
        case ptr(String)
        /// The domain's start of authority: the primary server's and the contact's names, and the numbers (the last,
        /// `minimum`, is how long resolvers cache a negative answer, RFC 2308).
        case soa(primary: String, mailbox: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    }

    /// The owner name, lower case, without trailing dot.
    public var name: String
    /// Seconds a resolver may cache it.
    public var ttl: UInt32
    /// The record's data.
    public var data: Data

    public init(name: String, ttl: UInt32, data: Data) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }

    /// The record's type.
    public var type: DNSRecordType {
        switch data {
        case .a: .a
        case .aaaa: .aaaa
        case .ptr: .ptr
        case .soa: .soa
        }
    }
}

/// A question: a name (as received, any case, trailing dot or not) and the type asked.
public struct DNSQuestion: Sendable, Hashable {
    public var name: String
    public var type: DNSRecordType

    public init(name: String, type: DNSRecordType) {
        self.name = name
        self.type = type
    }
}

/// What the zone answers to a question: the code, the answer records, the authority records (the SOA with a negative
/// answer), and whether the answer is authoritative (AA).
public struct DNSAnswer: Sendable, Hashable {
    public var code: DNSResponseCode
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    public var authoritative: Bool

    public init(code: DNSResponseCode, answers: [DNSRecord] = [], authority: [DNSRecord] = [], authoritative: Bool) {
        self.code = code
        self.answers = answers
        self.authority = authority
        self.authoritative = authoritative
    }

    /// REFUSED, not authoritative: what every question outside the zone gets.
    public static let refused = DNSAnswer(code: .refused, authoritative: false)
}
