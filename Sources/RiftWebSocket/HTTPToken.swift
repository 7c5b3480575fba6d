/// HTTP tokens (RFC 7230 §3.2.6): what header names and WebSocket subprotocol names must be.
enum HTTPToken {
    /// True when `text` is non-empty and made only of visible ASCII other than separators.
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !separators.contains(byte)
        }
    }

    private static let separators = Set("()<>@,;:\\\"/[]?={} \t".utf8)
}
