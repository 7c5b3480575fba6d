import Foundation

/// The process figures an operator needs next to the hub's own counters: open file descriptors and their limit, under
/// the names Prometheus' client libraries use (`process_open_fds`, `process_max_fds`), so the usual "near the fd
/// limit" alert applies. Each connection holds one descriptor, so this is how close the hub is to refusing them.
struct ProcessMetrics: Sendable, Equatable {
    /// Descriptors open now; nil when /proc cannot be read.
    var openFileDescriptors: Int?
    /// The soft `RLIMIT_NOFILE` in force; nil when /proc cannot be read.
    var maxFileDescriptors: Int?

    /// Reads /proc/self; a figure that cannot be read is left out of the page rather than reported as zero.
    static func current() -> ProcessMetrics {
        // The directory listing itself holds one descriptor while it runs.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { max(0, $0.count - 1) }
        let limits = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8)
        return ProcessMetrics(openFileDescriptors: open, maxFileDescriptors: limits.flatMap(softOpenFileLimit))
    }

    /// The soft limit from the "Max open files" line of /proc/self/limits; nil for "unlimited" or an unexpected line.
    static func softOpenFileLimit(_ limits: String) -> Int? {
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
        let fields = line.dropFirst("Max open files".count).split(separator: " ")
        return fields.first.flatMap { Int($0) }
    }

    /// The figures in the Prometheus text format.
    func prometheusText() -> String {
        var out = ""
        if let openFileDescriptors {
            out += "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n"
            out += "process_open_fds \(openFileDescriptors)\n"
        }
        if let maxFileDescriptors {
            out += "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\n"
            out += "process_max_fds \(maxFileDescriptors)\n"
        }
        return out
    }
}
