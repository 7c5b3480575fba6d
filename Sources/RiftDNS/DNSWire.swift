internal import CRiftLDNS
import Glibc

/// The DNS wire format, read and written by libldns: the one file that touches ldns and its pointers.
///
/// Every ldns object made here is freed here, before the function returns; nothing from ldns escapes.
enum DNSWire {
    /// The answer to `datagram`, a query read with `ldns_wire2pkt`, from `answering` its question; nil when the datagram
    /// is no DNS message or is a response (never answered: two servers must not bounce replies). A query that is not
    /// one QUERY with one question gets FORMERR or NOTIMP, a class other than IN (or ANY) REFUSED.
    ///
    /// Over UDP the reply fits `limit` bytes (512 without EDNS, RFC 1035 §4.2.1; what the client's EDNS says, up to
    /// 1232, with it): if it would not, it is sent without records and with TC set, so the client asks again over TCP.
    /// Over TCP (`stream`) the limit is the 65535 bytes a length prefix can say. A query whose EDNS version is not 0
    /// gets BADVERS (extended code 16) with no records, announcing version 0 (RFC 6891 §6.1.3).
    static func respond(to datagram: [UInt8], limit: Int = 512, stream: Bool = false, answering: (DNSQuestion) -> DNSAnswer) -> [UInt8]? {
        var parsed: UnsafeMutablePointer<ldns_pkt>?
        let status = datagram.withUnsafeBufferPointer { ldns_wire2pkt(&parsed, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let query = parsed else { return nil }
        defer { ldns_pkt_free(query) }
        guard !ldns_pkt_qr(query) else { return nil }

        var answer = DNSAnswer(code: .formatError, authoritative: false)
        var question: UnsafeMutablePointer<ldns_rr>?
        var questionName: String?
        let edns = ldns_pkt_edns(query)
        let badVersion = edns && ldns_pkt_edns_version(query) != 0
        if ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY {
            answer.code = .notImplemented
        } else if ldns_pkt_qdcount(query) == 1, let first = ldns_rr_list_rr(ldns_pkt_question(query), 0),
                  let owner = ldns_rr_owner(first), let text = ldns_rdf2str(owner) {
            question = first
            questionName = DNSZone.normalized(String(cString: text))
            free(text)
            let type = DNSRecordType(rawValue: UInt16(truncatingIfNeeded: ldns_rr_get_type(first).rawValue))
            let rrClass = ldns_rr_get_class(first)
            if badVersion {
                answer = DNSAnswer(code: .noError, authoritative: false)  // the header's 4 low bits of BADVERS (16)
            } else if rrClass == LDNS_RR_CLASS_IN || rrClass == LDNS_RR_CLASS_ANY {
                answer = answering(DNSQuestion(name: questionName!, type: type))
            } else {
                answer = .refused
            }
        }

        var size = stream ? Int(UInt16.max) : limit
        if edns && !stream { size = max(512, min(Int(ldns_pkt_edns_udp_size(query)), ednsPayloadSize)) }
        for truncated in [false, true] {
            guard let bytes = encode(answer, to: query, question: question, questionName: questionName, edns: edns,
                                     badVersion: badVersion, truncated: truncated) else { return nil }
            if bytes.count <= size || truncated { return bytes.count <= size ? bytes : nil }
        }
        return nil
    }

    /// The UDP payload size this server announces and accepts with EDNS (the DNS flag day 2020 value: no fragments).
    static let ednsPayloadSize = 1232

    /// The response to `query` as wire bytes: its id, RD and opcode echoed, its question (when there is one) copied,
    /// `answer`'s code and records (none when `truncated`, with TC). Records whose owner is the question's name take
    /// the question's own spelling (resolvers that randomise case, "0x20", compare it).
    private static func encode(_ answer: DNSAnswer, to query: UnsafeMutablePointer<ldns_pkt>, question: UnsafeMutablePointer<ldns_rr>?,
                               questionName: String?, edns: Bool, badVersion: Bool, truncated: Bool) -> [UInt8]? {
        guard let response = ldns_pkt_new() else { return nil }
        defer { ldns_pkt_free(response) }
        ldns_pkt_set_id(response, ldns_pkt_id(query))
        ldns_pkt_set_qr(response, true)
        ldns_pkt_set_opcode(response, ldns_pkt_get_opcode(query))
        ldns_pkt_set_rd(response, ldns_pkt_rd(query))
        ldns_pkt_set_aa(response, answer.authoritative)
        ldns_pkt_set_rcode(response, answer.code.rawValue)
        ldns_pkt_set_tc(response, truncated)
        if edns { ldns_pkt_set_edns_udp_size(response, UInt16(ednsPayloadSize)) }
        if badVersion { ldns_pkt_set_edns_extended_rcode(response, 1) }  // BADVERS = 16: 1 in the OPT's upper 8 bits
        if let question {
            guard let copy = ldns_rr_clone(question) else { return nil }
            _ = ldns_pkt_push_rr(response, LDNS_SECTION_QUESTION, copy)
        }
        if !truncated {
            let owner = question.flatMap { ldns_rr_owner($0) }
            for (section, records) in [(LDNS_SECTION_ANSWER, answer.answers), (LDNS_SECTION_AUTHORITY, answer.authority)] {
                for record in records {
                    let spelling = record.name == questionName ? owner : nil
                    guard let rr = makeRecord(record, owner: spelling) else { return nil }
                    _ = ldns_pkt_push_rr(response, section, rr)
                }
            }
        }
        var wire: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard ldns_pkt2wire(&wire, response, &count) == LDNS_STATUS_OK, let wire else { return nil }
        defer { free(wire) }
        return Array(UnsafeBufferPointer(start: wire, count: count))
    }

    /// A new ldns record for `record` (the caller owns it), owned by a copy of `owner` when given, else by the record's
    /// name; nil when ldns cannot read a name or address.
    private static func makeRecord(_ record: DNSRecord, owner: UnsafeMutablePointer<ldns_rdf>?) -> UnsafeMutablePointer<ldns_rr>? {
        var fields: [UnsafeMutablePointer<ldns_rdf>?]
        switch record.data {
        case .a(let address): fields = [ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, address)]
        case .aaaa(let address): fields = [ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, address)]
        case .ptr(let target): fields = [ldns_dname_new_frm_str(target + ".")]
        case .soa(let primary, let mailbox, let serial, let refresh, let retry, let expire, let minimum):
            fields = [ldns_dname_new_frm_str(primary + "."), ldns_dname_new_frm_str(mailbox + ".")]
            fields += [serial, refresh, retry, expire, minimum].map { ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, $0) }
        }
        let name = owner.flatMap { ldns_rdf_clone($0) } ?? ldns_dname_new_frm_str(record.name + ".")
        guard let name, fields.allSatisfy({ $0 != nil }), let rr = ldns_rr_new() else {
            for field in fields where field != nil { ldns_rdf_deep_free(field) }
            if let name { ldns_rdf_deep_free(name) }
            return nil
        }
        ldns_rr_set_owner(rr, name)
        ldns_rr_set_type(rr, ldns_rr_type(UInt32(record.type.rawValue)))
        ldns_rr_set_class(rr, LDNS_RR_CLASS_IN)
        ldns_rr_set_ttl(rr, record.ttl)
        for field in fields { _ = ldns_rr_push_rdf(rr, field) }
        return rr
    }
}

// MARK: Reading and writing messages as a client (tests, diagnostics)

extension DNSWire {
    /// A decoded response: the header bits the tests check and each section's records in zone-file text
    /// (`b.home.rift.\t5\tIN\tA\t100.64.0.2`).
    struct Message: Sendable, Hashable {
        var id: UInt16
        var isResponse: Bool
        var code: UInt8
        var authoritative: Bool
        var truncated: Bool
        var questions: [String]
        var answers: [String]
        var authority: [String]
        /// The UDP size its EDNS OPT record announces; nil without one (ldns takes the OPT out of the additional section).
        var ednsSize: UInt16?
        /// The upper 8 bits of the response code, from the EDNS OPT record (1 with a header code of 0: BADVERS, 16).
        var extendedCode: UInt8 = 0
    }

    /// A query for `name` and `type` (class IN, RD set) with `id`, and an EDNS OPT record announcing `ednsSize` when
    /// given; nil when ldns cannot read the name.
    static func query(name: String, type: DNSRecordType, id: UInt16, ednsSize: UInt16? = nil, ednsVersion: UInt8 = 0) -> [UInt8]? {
        guard let owner = ldns_dname_new_frm_str(name),
              let packet = ldns_pkt_query_new(owner, ldns_rr_type(UInt32(type.rawValue)), LDNS_RR_CLASS_IN, UInt16(LDNS_RD)) else { return nil }
        defer { ldns_pkt_free(packet) }
        ldns_pkt_set_id(packet, id)
        if let ednsSize {
            ldns_pkt_set_edns_udp_size(packet, ednsSize)
            ldns_pkt_set_edns_version(packet, ednsVersion)
        }
        var wire: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard ldns_pkt2wire(&wire, packet, &count) == LDNS_STATUS_OK, let wire else { return nil }
        defer { free(wire) }
        return Array(UnsafeBufferPointer(start: wire, count: count))
    }

    /// `bytes` read as a DNS message; nil when ldns cannot read it.
    static func decode(_ bytes: [UInt8]) -> Message? {
        var parsed: UnsafeMutablePointer<ldns_pkt>?
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&parsed, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet = parsed else { return nil }
        defer { ldns_pkt_free(packet) }
        return Message(
            id: ldns_pkt_id(packet), isResponse: ldns_pkt_qr(packet), code: UInt8(truncatingIfNeeded: ldns_pkt_get_rcode(packet).rawValue),
            authoritative: ldns_pkt_aa(packet), truncated: ldns_pkt_tc(packet),
            questions: texts(ldns_pkt_question(packet)), answers: texts(ldns_pkt_answer(packet)),
            authority: texts(ldns_pkt_authority(packet)), ednsSize: ldns_pkt_edns(packet) ? ldns_pkt_edns_udp_size(packet) : nil,
            extendedCode: ldns_pkt_edns(packet) ? ldns_pkt_edns_extended_rcode(packet) : 0)
    }

    /// Each record of `list` in zone-file text, without its line end.
    private static func texts(_ list: UnsafeMutablePointer<ldns_rr_list>?) -> [String] {
        guard let list else { return [] }
        return (0..<ldns_rr_list_rr_count(list)).compactMap { index in
            guard let text = ldns_rr2str(ldns_rr_list_rr(list, index)) else { return nil }
            defer { free(text) }
            return String(cString: text).trimmingCharacters(in: "\n")
        }
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var text = self
        while text.last == set { text.removeLast() }
        return text
    }
}
