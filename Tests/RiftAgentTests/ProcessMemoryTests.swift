#if canImport(Glibc)
import Glibc
#endif
@testable import RiftAgent
import Testing

/// The agent's malloc settings: libnice's per-peer 64 KiB buffers must get mappings of their own, so their untouched
/// pages are never resident, while small allocations stay in the arenas.
@Suite struct ProcessMemoryTests {
    @Test func buffersOfLibniceSizeGetTheirOwnMapping() throws {
        ProcessMemory.apply()
        for size in [65_535, 65_537] {  // libnice's receive buffer and RFC 4571 buffer, per component
            let before = ProcessMemory.mappedAllocationCount
            let buffer = try #require(malloc(size))
            #expect(ProcessMemory.mappedAllocationCount == before + 1, "a \(size)-byte allocation was not mapped")
            free(buffer)
            #expect(ProcessMemory.mappedAllocationCount == before)
        }
    }

    @Test func smallAllocationsStayInTheArenas() throws {
        ProcessMemory.apply()
        let before = ProcessMemory.mappedAllocationCount
        let buffer = try #require(malloc(Int(ProcessMemory.mappedAllocationBytes) - 4096))
        defer { free(buffer) }
        #expect(ProcessMemory.mappedAllocationCount == before)
    }
}
