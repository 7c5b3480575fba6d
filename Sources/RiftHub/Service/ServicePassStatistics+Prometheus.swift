import RiftWebSocket

extension ServicePassStatistics {
    /// The service loop's figures for the metrics page: the pass and wait histograms (seconds, Prometheus histograms),
    /// the slow-pass count, their off-CPU time and what ran in them, by kind.
    func prometheusText() -> String {
        var out = ""
        func histogram(_ name: String, _ help: String, _ histogram: DurationHistogram) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (bound, count) in zip(histogram.upperBoundsNanoseconds, histogram.cumulativeCounts) {
                out += "\(name)_bucket{le=\"\(Self.seconds(bound))\"} \(count)\n"
            }
            out += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n"
            out += "\(name)_sum \(Self.seconds(histogram.sumNanoseconds))\n\(name)_count \(histogram.count)\n"
        }
        // Counts and durations apart: callbacks by kind in `_work_total`, the handler's jobs in `_job_seconds_total`.
        func work(_ prefix: String, _ which: String, _ activity: ServicePassActivity) {
            let figures = activity.namedFigures
            out += "# HELP \(prefix)_work_total Callbacks that ran in \(which), by kind.\n# TYPE \(prefix)_work_total counter\n"
            for (name, value) in figures where !name.hasSuffix("_ns") {
                out += "\(prefix)_work_total{kind=\"\(name)\"} \(value)\n"
            }
            out += "# HELP \(prefix)_job_seconds_total Time in the handler's jobs in \(which): its tick, its end-of-pass work.\n"
            out += "# TYPE \(prefix)_job_seconds_total counter\n"
            for (name, value) in figures where name.hasSuffix("_ns") {
                out += "\(prefix)_job_seconds_total{job=\"\(name.dropLast(3))\"} \(Self.seconds(value))\n"
            }
        }
        histogram("riftgate_hub_service_pass_seconds",
                  "Wall time of each pass of the service loop (from the event wait's return to the next wait).", passes)
        histogram("riftgate_hub_service_wait_seconds", "Wall time of each event wait of the service loop.", waits)
        out += "# HELP riftgate_hub_service_slow_passes_total Service-loop passes longer than \(Self.seconds(slowPassNanoseconds)) s.\n"
        out += "# TYPE riftgate_hub_service_slow_passes_total counter\n"
        out += "riftgate_hub_service_slow_passes_total \(slowPasses)\n"
        out += "# HELP riftgate_hub_service_slow_pass_off_cpu_seconds_total Wall time of the slow passes not spent on the CPU (preempted or blocked).\n"
        out += "# TYPE riftgate_hub_service_slow_pass_off_cpu_seconds_total counter\n"
        out += "riftgate_hub_service_slow_pass_off_cpu_seconds_total \(Self.seconds(slowPassesOffCPUNanoseconds))\n"
        work("riftgate_hub_service_slow_pass", "the slow passes", slowPassActivity)
        work("riftgate_hub_service_pass", "all passes", totalActivity)
        return out
    }

    /// The latest slow passes, one a line, oldest first (a plain-text page on the admin listener, for benchmarks that
    /// line them up with their own CLOCK_MONOTONIC samples): start, wall, CPU and preceding wait, then the activity.
    func slowPassesText() -> String {
        var out = "# started_ns duration_ns cpu_ns wait_before_ns " + ServicePassActivity().namedFigures.map(\.name).joined(separator: " ") + "\n"
        for pass in recentSlowPasses {
            out += "\(pass.startedNanoseconds) \(pass.durationNanoseconds) \(pass.cpuNanoseconds) \(pass.waitNanoseconds) "
            out += pass.activity.namedFigures.map { "\($0.value)" }.joined(separator: " ") + "\n"
        }
        return out
    }

    /// `nanoseconds` as decimal seconds, exactly (no floating point).
    static func seconds(_ nanoseconds: UInt64) -> String {
        let fraction = String(nanoseconds % 1_000_000_000)
        let digits = String(repeating: "0", count: 9 - fraction.count) + fraction
        let trimmed = digits.reversed().drop { $0 == "0" }.reversed()
        return trimmed.isEmpty ? "\(nanoseconds / 1_000_000_000)" : "\(nanoseconds / 1_000_000_000).\(String(trimmed))"
    }
}
