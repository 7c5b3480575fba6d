#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process' open-file limit (`RLIMIT_NOFILE`), which caps how many connections a server holds.
enum FileDescriptorLimit {
    /// The highest soft limit we ask for: libwebsockets allocates lookup tables sized by the
    /// limit (about 16 bytes per descriptor), so an "unlimited" hard limit must not be copied.
    static let ceiling: rlim_t = 1 << 20

    /// Sets the soft limit to the hard limit (at most `ceiling`, lowering a larger soft limit to
    /// it) and returns the soft limit in force afterwards. If the change fails, the current limit
    /// is kept and returned: the server then simply accepts fewer connections.
    static func raiseSoftLimitToHardLimit() -> Int {
        var limits = rlimit()
        guard getrlimit(resource, &limits) == 0 else { return 1024 }
        let wanted = min(limits.rlim_max, ceiling)
        if limits.rlim_cur != wanted {
            var changed = limits
            changed.rlim_cur = wanted
            if setrlimit(resource, &changed) == 0 { return Int(wanted) }
        }
        return Int(min(limits.rlim_cur, ceiling))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
