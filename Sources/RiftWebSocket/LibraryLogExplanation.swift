import RiftSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns the lines libwebsockets logged during a failure into a short explanation for people.
enum LibraryLogExplanation {
    /// For a failed context creation: the system error of a failed `bind` ("Address already in
    /// use", with its errno), the package to install when lws' libev plugin is missing, or else
    /// lws' own lines joined, or a fallback.
    static func contextFailure(_ lines: [String]) -> (text: String, code: Int32?) {
        if let bindLine = lines.first(where: { $0.contains("ERROR on binding") }),
           let code = lastNumberInParentheses(bindLine) {
            return (SystemCallError.reason(for: code), code)
        }
        if lines.contains(where: { $0.contains("evlib_ev") }) {
            return ("libwebsockets could not load its libev plugin (install the Debian package libwebsockets-evlib-ev)", nil)
        }
        if lines.isEmpty { return ("libwebsockets gave no reason", nil) }
        return (lines.joined(separator: "; "), nil)
    }

    /// OpenSSL's verification error from lws' "SSL error: <text> (preverify_ok=…)" line, if any.
    static func certificateVerificationError(_ lines: [String]) -> String? {
        for line in lines.reversed() {
            guard let start = line.firstRange(of: "SSL error: ") else { continue }
            let rest = line[start.upperBound...]
            let end = rest.firstRange(of: " (preverify")?.lowerBound ?? rest.endIndex
            return String(rest[..<end])
        }
        return nil
    }

    /// 98 in "ERROR on binding fd 5 to port 80 (-1 98)".
    private static func lastNumberInParentheses(_ line: String) -> Int32? {
        guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else { return nil }
        let inside = line[line.index(after: open)..<close]
        return inside.split(separator: " ").last.flatMap { Int32($0) }
    }
}
