/// What may be said about a PostgreSQL connection URL in logs and errors.
public enum PostgresURL {
    /// Whether `location` is a PostgreSQL URL (`postgres://` or `postgresql://`) rather than a SQLite file path.
    public static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// `url` without its password: the `:password` of the user part and any `password=` parameter are replaced
    /// by `***`. Anything else (user, hosts, ports, database, other parameters) is kept, for people to recognise it.
    public static func redacted(_ url: String) -> String {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return url }
        let schemeEnd = url.index(colon, offsetBy: 3)
        var rest = String(url[schemeEnd...])
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            rest.replaceSubrange(rest.index(after: colon)..<at, with: "***")
        }
        if let question = rest.firstIndex(of: "?") {
            let parameters = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
                parameter.lowercased().hasPrefix("password=") ? "password=***" : String(parameter)
            }
            rest = String(rest[...question]) + parameters.joined(separator: "&")
        }
        return String(url[..<schemeEnd]) + rest
    }
}
