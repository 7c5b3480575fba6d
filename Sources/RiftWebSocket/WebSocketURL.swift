/// A parsed `ws://` or `wss://` URL: what a client connects to and the request line it sends.
public struct WebSocketURL: Equatable {
    /// True for `wss://`.
    var isSecure: Bool
    /// The host name or IP address, without the brackets of an IPv6 literal.
    public var host: String
    /// The explicit port, or 80 / 443.
    var port: UInt16
    /// The request target: path plus query, always starting with `/`.
    var path: String

    /// The `Host` header: the host (bracketed if IPv6) with the port unless it is the default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Parses `text`; throws naming the problem for another scheme, a missing or malformed
    /// host, a bad port, user information, a fragment, or whitespace and control characters.
    public init(parsing text: String) throws(WebSocketError) {
        func invalid(_ problem: String) -> WebSocketError {
            WebSocketError("invalid WebSocket URL \"\(text)\": \(problem)")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw invalid("it contains whitespace or control characters")
        }
        var rest: Substring
        if text.lowercased().hasPrefix("ws://") {
            isSecure = false
            rest = text.dropFirst(5)
        } else if text.lowercased().hasPrefix("wss://") {
            isSecure = true
            rest = text.dropFirst(6)
        } else {
            throw invalid("the scheme must be ws:// or wss://")
        }
        guard !rest.contains("#") else { throw invalid("fragments are not allowed") }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        path = rest.isEmpty ? "/" : (rest.first == "?" ? "/" + rest : String(rest))
        guard !authority.contains("@") else { throw invalid("user information is not allowed") }

        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw invalid("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { throw invalid("brackets are only for IPv6 addresses") }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = String(parts[0])
            if parts.count == 2 { portText = parts[1] }
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        if let portText {
            guard let number = UInt16(portText), number > 0 else { throw invalid("the port must be 1-65535") }
            port = number
        } else {
            port = isSecure ? 443 : 80
        }
    }
}
