/// The NATS servers a hub connects to, from `--nats nats://a:4222,nats://b:4222` or a list.
///
/// A URL may carry credentials (`nats://user:password@host:4222`, `nats://token@host:4222`); `redacted` is the form
/// that may be logged or shown, with the user information replaced by `***`.
public struct ServerList: Sendable, Hashable, CustomStringConvertible {
    /// The URLs as given, credentials included: for libnats only, never for a log.
    public let urls: [String]

    /// A list of URLs; each must be `nats://` or `tls://` with a host.
    ///
    /// Fails (`ClusterBusError.wrapperMisuse`) on an empty list or a URL of another scheme or without a host; the
    /// error shows the redacted URL.
    public init(_ urls: [String]) throws(ClusterBusError) {
        let trimmed = urls.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !trimmed.isEmpty else {
            throw ClusterBusError(
                status: ClusterBusError.wrapperMisuse, statusText: "invalid argument", reason: "no NATS server URL given")
        }
        for url in trimmed {
            let scheme = url.prefix { $0 != ":" }
            let rest = url.dropFirst(scheme.count)
            let host = Self.hostPart(of: url)
            guard ["nats", "tls"].contains(scheme.lowercased()), rest.hasPrefix("://"), !host.isEmpty, !host.hasPrefix(":") else {
                throw ClusterBusError(
                    status: ClusterBusError.wrapperMisuse, statusText: "invalid argument",
                    reason: "not a NATS server URL (nats://host:port or tls://host:port): \(Self.redact(url))")
            }
        }
        self.urls = trimmed
    }

    /// A comma-separated list, as `--nats` and the configuration file take it.
    public init(commaSeparated text: String) throws(ClusterBusError) {
        try self.init(text.split(separator: ",").map(String.init))
    }

    /// The URLs with their credentials replaced by `***`, in order.
    public var redacted: [String] { urls.map(Self.redact) }

    public var description: String { redacted.joined(separator: ",") }

    /// The credential parts (user information) of the URLs, to scrub from text libnats returns.
    var secrets: [String] {
        urls.compactMap { url in
            let authority = Self.authority(of: url)
            guard let at = authority.lastIndex(of: "@") else { return nil }
            let secret = String(authority[..<at])
            return secret.isEmpty ? nil : secret
        }
    }

    /// `text` with every credential of these URLs replaced by `***`.
    func scrub(_ text: String) -> String {
        var result = text
        for secret in secrets { result = result.replacing(secret, with: "***") }
        return result
    }

    /// One URL with its user information replaced by `***`.
    public static func redact(_ url: String) -> String {
        guard let separator = url.firstRange(of: "://") else { return url.contains("@") ? "***" : url }
        let authority = authority(of: url)
        guard let at = authority.lastIndex(of: "@") else { return url }
        let afterAuthority = url[separator.upperBound...].dropFirst(authority.count)
        return String(url[..<separator.upperBound]) + "***" + String(authority[at...]) + String(afterAuthority)
    }

    /// The part between `://` and the next `/`, `?` or `#`.
    private static func authority(of url: String) -> Substring {
        guard let separator = url.firstRange(of: "://") else { return url[url.endIndex...] }
        return url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    }

    private static func hostPart(of url: String) -> Substring {
        let authority = authority(of: url)
        if let at = authority.lastIndex(of: "@") { return authority[authority.index(after: at)...] }
        return authority
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
