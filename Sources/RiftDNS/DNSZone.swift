/// The names one agent answers for: `<label>.<domain>` of every peer (itself included), and the reverse names of their
/// overlay addresses. A plain value; `answer(_:)` is the whole resolver logic, with no I/O.
///
/// - `A`/`AAAA` of `<label>.<domain>` (any case, trailing dot or not): the host's address; the other type of an
///   existing name, or a type it does not have (AAAA of a host without IPv6): NOERROR with no record (NODATA).
/// - A name under the domain that is no host: NXDOMAIN. Negative answers carry the domain's SOA in the authority
///   section, whose `minimum` (and TTL) is `ttl`, so resolvers cache the absence only as long as a name: a peer that
///   joins is found within seconds.
/// - `PTR` of a host's overlay address (`in-addr.arpa`, `ip6.arpa`): its full name.
/// - Everything else is REFUSED: names outside the domain (the agent never forwards: it must not become a resolver for
///   the host's other traffic), and reverse names of addresses that are no host. The latter is a choice: the agent is
///   not the authority for the overlay prefix's whole reverse zone (it cannot tell a free address from one the hub
///   assigned to a peer it does not see), so it says "not mine" rather than "does not exist", and a resolver with
///   other servers may ask them.
public struct DNSZone: Sendable, Hashable {
    /// The domain (`home.rift`), lower case, without trailing dot.
    public var domain: String
    /// The hosts; a label given twice answers with every address (the hub keeps labels unique).
    public var hosts: [DNSHost]
    /// Seconds every answer may be cached, positive or negative: short, so that renames and departures reach resolvers
    /// quickly.
    public var ttl: UInt32

    /// The default `ttl`.
    public static let defaultTTL: UInt32 = 5

    /// A zone for `domain` (case and one trailing dot ignored).
    public init(domain: String, hosts: [DNSHost], ttl: UInt32 = DNSZone.defaultTTL) {
        self.domain = Self.normalized(domain)
        self.hosts = hosts
        self.ttl = ttl
    }

    /// The answer to `question`.
    public func answer(_ question: DNSQuestion) -> DNSAnswer {
        let name = Self.normalized(question.name)
        if name == domain { return apex(question.type) }
        if name.hasSuffix("." + domain) {
            let label = String(name.dropLast(domain.utf8.count + 1))
            let matching = hosts.filter { $0.label.lowercased() == label }
            guard !matching.isEmpty else { return DNSAnswer(code: .nameError, authority: [soa], authoritative: true) }
            var records: [DNSRecord] = []
            if question.type == .a || question.type == .any {
                records += matching.compactMap(\.ipv4).map { DNSRecord(name: name, ttl: ttl, data: .a($0)) }
            }
            if question.type == .aaaa || question.type == .any {
                records += matching.compactMap(\.ipv6).map { DNSRecord(name: name, ttl: ttl, data: .aaaa($0)) }
            }
            return DNSAnswer(code: .noError, answers: records, authority: records.isEmpty ? [soa] : [], authoritative: true)
        }
        let owners = hosts.filter { host in
            [host.ipv4, host.ipv6].contains { address in address.flatMap(ReverseName.of) == name }
        }
        guard !owners.isEmpty else { return .refused }
        guard question.type == .ptr || question.type == .any else { return DNSAnswer(code: .noError, authoritative: true) }
        let records = owners.map { DNSRecord(name: name, ttl: ttl, data: .ptr("\($0.label.lowercased()).\(domain)")) }
        return DNSAnswer(code: .noError, answers: records, authoritative: true)
    }

    /// The domain itself: its SOA; any other type has no record (NODATA).
    private func apex(_ type: DNSRecordType) -> DNSAnswer {
        if type == .soa || type == .any { return DNSAnswer(code: .noError, answers: [soa], authoritative: true) }
        return DNSAnswer(code: .noError, authority: [soa], authoritative: true)
    }

    /// The domain's start of authority. There is no NS record and no zone transfer: the primary named is the apex
    /// itself (no peer's name can equal it), and the serial stays 1 because nothing copies this zone.
    var soa: DNSRecord {
        DNSRecord(name: domain, ttl: ttl, data: .soa(primary: domain, mailbox: "hostmaster." + domain, serial: 1,
                                                      refresh: 3600, retry: 600, expire: 86400, minimum: ttl))
    }

    /// `name` in lower case (ASCII only: DNS compares only ASCII case-insensitively) without one trailing dot.
    static func normalized(_ name: String) -> String {
        var text = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }))
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
