internal import CRiftLinux
import Dispatch
import FoundationEssentials
import Logging
import RiftSupport

/// Gives back the file pages the agent touched to start and does not use while it runs.
///
/// Most of the agent's resident memory is clean file pages: its binary and the ~50 shared libraries libnice,
/// libwebsockets and OpenSSL bring (libnice's UPnP chain and GnuTLS among them, which the agent never calls). The
/// loader's relocations and the runtime's start-up scans touch them once, and the kernel maps every faulted page's
/// neighbours too (fault-around, 64 KiB), so they stay in the agent's RSS for the rest of its life. A while after start
/// the agent walks `/proc/self/smaps` and gives back every read-only file mapping that holds no page of its own (code
/// and constant data; never the relocated RELRO pages, which are copy-on-write copies): `CRiftLinux_release_file_pages`
/// unmaps their pages and turns off fault-around for those mappings, so what becomes resident again is what the agent
/// touches again (the page, or the page cache's folio that holds it). Nothing is lost: the pages stay in the page cache
/// (the first memory the kernel reclaims, being mapped by no one), and one touched again faults back in (a minor
/// fault). RSS then grows again as the agent first runs code it had not run since the release (a peer joining: about
/// 3 MiB once), and stays there. Measured in docs/performance.md ("Agent memory").
enum StartupPageRelease {
    /// Seconds after start at which the pages are given back: start-up is over by then (configuration read, hub
    /// joined, first ICE sessions gathered). Once is enough: after it, a page that comes back is one the agent touched
    /// (no fault-around), and a second release at 60 s measured nothing more to give (its pages came straight back).
    static let delay: Double = 10

    /// One mapping of `/proc/self/smaps`: its range, permissions, path, and how much of it is resident and how much is
    /// the process's own (copy-on-write) pages.
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var permissions: String
        var path: String
        var residentKiB = 0
        var anonymousKiB = 0

        /// Read-only, backed by a regular file, and every page of it equal to the file: unmapping it loses nothing.
        var isReleasable: Bool {
            path.hasPrefix("/") && !path.hasPrefix("/dev/") && !path.hasPrefix("/memfd:")
                && !permissions.contains("w") && anonymousKiB == 0 && residentKiB > 0
        }
    }

    /// What one release did, for the debug log.
    struct Outcome: Equatable {
        var mappings = 0
        var releasedKiB = 0
        var failures = 0
    }

    /// Parses `/proc/PID/smaps`: a header line per mapping (`start-end perms offset dev inode path`), then its fields.
    static func mappings(inSmaps text: String) -> [Mapping] {
        var found: [Mapping] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard !found.isEmpty, fields.count >= 2, let kib = Int(fields[1]) else { continue }
                switch first {
                case "Rss:": found[found.count - 1].residentKiB = kib
                case "Anonymous:": found[found.count - 1].anonymousKiB = kib
                default: break
                }
                continue
            }
            let bounds = first.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  fields.count >= 5 else { continue }
            let path = fields.count == 6 ? String(fields[5]).trimmingWhitespace() : ""
            found.append(Mapping(start: start, end: end, permissions: String(fields[1]), path: path))
        }
        return found
    }

    /// Schedules the release `delay` seconds from now on a utility queue (it reads smaps and makes a few hundred
    /// `madvise` calls: a few milliseconds).
    static func schedule(logger: Logger) {
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + delay) {
            let outcome = release()
            logger.debug("""
                gave back \(outcome.releasedKiB) KiB of start-up file pages (\(outcome.mappings) mappings\
                \(outcome.failures > 0 ? ", \(outcome.failures) refused" : ""))
                """)
        }
    }

    /// Gives back this process's releasable mappings; a mapping the kernel refuses is left as it was.
    static func release() -> Outcome {
        guard let bytes = try? SystemCall.readWholeFile("/proc/self/smaps") else { return Outcome() }
        let text = String(decoding: bytes, as: UTF8.self)
        var outcome = Outcome()
        for mapping in mappings(inSmaps: text) where mapping.isReleasable {
            if CRiftLinux_release_file_pages(CUnsignedLong(mapping.start), CUnsignedLong(mapping.end - mapping.start)) == 0 {
                outcome.mappings += 1
                outcome.releasedKiB += mapping.residentKiB
            } else {
                outcome.failures += 1
            }
        }
        return outcome
    }
}
