#if canImport(Glibc)
import Glibc
#endif

/// Left-aligned columns for the admin CLI's listings.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// The table with two spaces between columns and no trailing spaces.
    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}

/// How the admin CLI writes times: UTC, to the second, ISO 8601 style.
enum TimeText {
    /// `2025-01-31T18:04:05Z`, or `never` for nil.
    static func format(_ unixSeconds: Int64?) -> String {
        guard let unixSeconds else { return "never" }
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
