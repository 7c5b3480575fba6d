/// The status code and reason of a WebSocket close frame (RFC 6455 §5.5.1).
struct CloseFrame: Equatable {
    /// The status code, made sendable by `init`.
    var code: UInt16
    /// The reason, cut to the 123 UTF-8 bytes a close frame can carry (never inside a character).
    var reason: String

    /// A frame to send. Codes an endpoint may not send (below 1000, 1004–1006, 1015, 1016–2999
    /// which are unassigned, above 4999) become 1000, since close requests cannot fail.
    init(code: UInt16, reason: String) {
        self.code = Self.isSendable(code) ? code : 1000
        self.reason = Self.truncated(reason)
    }

    /// Reads a received close payload: a big-endian code followed by a UTF-8 reason.
    /// Returns nil for an empty payload (the peer sent no code).
    init?<Payload: Collection<UInt8>>(payload: Payload) {
        guard payload.count >= 2 else { return nil }
        let first = payload.first!
        let second = payload[payload.index(after: payload.startIndex)]
        code = UInt16(first) << 8 | UInt16(second)
        reason = String(decoding: payload.dropFirst(2), as: UTF8.self)
    }

    static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    private static func truncated(_ reason: String) -> String {
        guard reason.utf8.count > 123 else { return reason }
        var cut = ""
        for character in reason {
            if cut.utf8.count + character.utf8.count > 123 { break }
            cut.append(character)
        }
        return cut
    }
}
