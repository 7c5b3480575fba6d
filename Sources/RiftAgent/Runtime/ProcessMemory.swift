internal import CRiftLinux

/// Process-wide memory settings of `riftgate up`.
///
/// glibc gives each thread that meets contention a malloc arena of its own (up to 8 per core), and every arena keeps
/// its freed memory resident. The agent's threads (runtime, ICE, forwarding, WebSocket, control, Swift's pool) hold
/// little at a time, so two arenas serve them: measured in the bench's memory section.
enum ProcessMemory {
    /// Malloc arenas for the whole process.
    static let mallocArenas: Int32 = 2

    /// Applies the limits; call before the agent starts its threads.
    static func apply() {
        _ = CRiftLinux_limit_malloc_arenas(mallocArenas)
    }
}
