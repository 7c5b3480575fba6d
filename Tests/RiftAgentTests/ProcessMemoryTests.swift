#if canImport(Glibc)
import Glibc
#endif
@testable import RiftAgent
import Testing

/// Which allocator serves `malloc` in this test process.
enum MallocKind {
    /// Whether it is glibc's: AddressSanitizer and ThreadSanitizer (`make test` runs both) bring their own.
    static let isGlibc = dlsym(nil, "__asan_init") == nil && dlsym(nil, "__tsan_init") == nil
}

/// The agent's malloc settings: libnice's per-peer 64 KiB buffers must get mappings of their own, so their untouched
/// pages are never resident, while smaller allocations stay in the arenas. Each allocation is checked by its own chunk
/// header, so tests running in parallel cannot disturb the result.
@Suite("Process memory settings",
       .enabled(if: MallocKind.isGlibc, "a sanitizer's allocator replaces glibc's malloc, whose chunks these tests read"))
struct ProcessMemoryTests {
    /// glibc consults the threshold only when neither its bins (freed chunks) nor the arena's top chunk can serve a
    /// request. In a test process where hundreds of tests ran and freed memory, the first few dozen buffers can all come
    /// from freed chunks, so the test asks for more than those can hold: 2,000 buffers (125 MiB of address space,
    /// little of it touched). With glibc's default threshold (128 KiB and up) none would have a mapping; with the
    /// agent's, all but those the bins and the top served do.
    @Test("libnice's 65,535- and 65,537-byte buffers get mappings of their own once freed memory is used up")
    func libniceBuffersAreMapped() throws {
        ProcessMemory.apply()
        for size in [65_535, 65_537] {  // nice_component_init: receive buffer, RFC 4571 buffer
            var buffers: [UnsafeMutableRawPointer] = []
            defer { buffers.forEach { free($0) } }
            for _ in 0..<2_000 { buffers.append(try #require(malloc(size))) }
            let mapped = buffers.filter { ProcessMemory.hasOwnMapping($0) }.count
            #expect(mapped >= 1_000, "only \(mapped) of 2,000 allocations of \(size) bytes got their own mapping")
        }
    }

    @Test("allocations below the threshold stay in the arenas")
    func smallerAllocationsAreNotMapped() throws {
        ProcessMemory.apply()
        for size in [64, 4_096, Int(ProcessMemory.mappedAllocationBytes) - 4_096] {
            let buffer = try #require(malloc(size))
            defer { free(buffer) }
            #expect(!ProcessMemory.hasOwnMapping(buffer), "a \(size)-byte allocation got its own mapping")
        }
    }
}
