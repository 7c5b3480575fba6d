/// A `host:port` to listen on: `127.0.0.1:8443`, `[::1]:0`; `0.0.0.0:8443`, `[::]:8443` and `:8443` mean all interfaces.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host or IP literal (without brackets); nil for all interfaces.
    public var host: String?
    /// The port; 0 asks the system for a free one.
    public var port: UInt16

    /// Creates a listen address.
    public init(host: String?, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[ipv6]:port` or `:port`; nil when malformed.
    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portPart), hostPart.allSatisfy({ !$0.isWhitespace && $0 != "/" }) else { return nil }
        self.host = hostPart.isEmpty || hostPart == "0.0.0.0" || hostPart == "::" ? nil : String(hostPart)
        self.port = port
    }

    public var description: String {
        guard let host else { return "*:\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
