import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif
import RiftSupport

/// Writes the agent's metrics for node_exporter's textfile collector (`riftgate up --metrics-textfile PATH`).
///
/// The runtime hands it every status snapshot it builds; it writes at most once per `interval` (the collector reads
/// the file at each scrape, so more often would only cost disk writes), atomically (`PATH.tmp` then rename, so a
/// scrape never sees half a file; node_exporter reads only `*.prom`) and with mode 0644 whatever the service's umask,
/// because node_exporter runs as another user. A failed write is reported once, then retried at the next interval; it never stops the agent.
public final class MetricsTextfile: Sendable {
    /// The file; node_exporter reads `*.prom` files in its `--collector.textfile.directory`. Its directory must exist
    /// (it is not created, so a mistyped path is reported rather than written somewhere nobody reads).
    public let path: String
    let interval: Duration
    private let state = Locked<(lastWrite: ContinuousClock.Instant?, failing: Bool)>((nil, false))

    /// Prepares the writer; nothing is written until the first `update`.
    public init(path: String, interval: Duration = .seconds(5)) {
        self.path = path
        self.interval = interval
    }

    /// Writes `status` if the last write is at least `interval` old. Returns an error message when a write fails and
    /// the previous one did not (so the caller logs each outage once), nil otherwise.
    @discardableResult
    public func update(_ status: AgentStatus, now: ContinuousClock.Instant = .now) -> String? {
        let due = state.withLock { state in
            guard state.lastWrite.map({ now - $0 >= interval }) ?? true else { return false }
            state.lastWrite = now
            return true
        }
        guard due else { return nil }
        do {
            try write(status.prometheusTextfile)
            state.withLock { $0.failing = false }
            return nil
        } catch {
            let firstFailure = state.withLock { state in
                defer { state.failing = true }
                return !state.failing
            }
            return firstFailure ? "cannot write metrics to \(path): \(error)" : nil
        }
    }

    /// A temporary file next to `path`, then rename(2). No fsync: a reader only needs a whole file, not a durable
    /// one, and the write runs on the agent's event loop, which must not wait for the disk.
    private func write(_ text: String) throws {
        let temporary = path + ".tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        do { try SystemCall.once("rename") { rename(temporary, path) } } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error  // "rename: <reason>"
        }
    }
}
