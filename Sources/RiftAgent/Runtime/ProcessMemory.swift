internal import CRiftLinux

/// Process-wide memory settings of `riftgate up`.
///
/// glibc gives each thread that meets contention a malloc arena of its own (up to 8 per core), and every arena keeps
/// its freed memory resident. The agent's threads (runtime, ICE, forwarding, WebSocket, control, Swift's pool) hold
/// little at a time, so two arenas serve them: measured in the bench's memory section.
///
/// libnice allocates two 64 KiB buffers for every ICE component, so for every peer (`nice_component_init`: a receive
/// buffer and an RFC 4571 framing buffer, the second used only by ICE-TCP, which the agent turns off). Of the receive
/// buffer only the pages the largest datagram reaches are ever written. Inside an arena both land on memory that
/// earlier allocations already made resident, and were most of what each added peer cost (heaptrack and smaps:
/// docs/performance.md, "Agent memory"); from a mapping of their own, untouched pages cost nothing.
enum ProcessMemory {
    /// Malloc arenas for the whole process.
    static let mallocArenas: Int32 = 2
    /// Allocations of this size or more get their own mapping: libnice's 65,535- and 65,537-byte buffers are above
    /// it. Nothing the agent allocates per packet is this large, so the mapping calls stay rare (one pair per ICE
    /// session opened or restarted). glibc consults it only when the arena's top chunk cannot serve the request, so a
    /// buffer can still come from an arena whose top has that much free (at most about 128 KiB, glibc's top pad and
    /// trim threshold): most do not.
    static let mappedAllocationBytes: Int32 = 60 << 10

    /// Applies the limits; call before the agent starts its threads.
    static func apply() {
        _ = CRiftLinux_limit_malloc_arenas(mallocArenas)
        _ = CRiftLinux_set_malloc_mmap_threshold(mappedAllocationBytes)
    }

    /// Whether glibc serves `allocation` (from `malloc`) from a mapping of its own (for tests).
    static func hasOwnMapping(_ allocation: UnsafeRawPointer) -> Bool { CRiftLinux_is_mapped_allocation(allocation) != 0 }
}
