#if canImport(Glibc)
import Glibc
#endif
@testable import RiftAgent
import RiftSupport
import Testing

/// The agent gives back the read-only file pages it touched to start: only mappings where every page equals the file,
/// and nothing a later read could miss.
@Suite("Start-up page release")
struct StartupPageReleaseTests {
    static let sample = """
        55d0c0a00000-55d0c0b2c000 r--p 00000000 08:01 1234                       /usr/bin/riftgate
        Size:               1200 kB
        Rss:                 372 kB
        Anonymous:           372 kB
        55d0c0b2c000-55d0c1e00000 r-xp 0012c000 08:01 1234                       /usr/bin/riftgate
        Rss:               10536 kB
        Anonymous:             0 kB
        55d0c1e00000-55d0c1f00000 rw-p 01400000 08:01 1234                       /usr/bin/riftgate
        Rss:                1280 kB
        Anonymous:           164 kB
        7f0000000000-7f0000010000 r--p 00000000 08:01 99                         /opt/my lib/lib with spaces.so
        Rss:                  64 kB
        Anonymous:             0 kB
        7f0000010000-7f0000020000 r-xp 00010000 08:01 99                         /opt/my lib/lib with spaces.so
        Rss:                   0 kB
        Anonymous:             0 kB
        7f0000100000-7f0000200000 rw-p 00000000 00:00 0
        Rss:                 512 kB
        Anonymous:           512 kB
        7f0000300000-7f0000301000 r--s 00000000 00:05 7                          /dev/some-device
        Rss:                   4 kB
        Anonymous:             0 kB
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """

    @Test("smaps is read mapping by mapping: range, permissions, path with its spaces, Rss and Anonymous")
    func parsesSmaps() {
        let mappings = StartupPageRelease.mappings(inSmaps: Self.sample)
        #expect(mappings.count == 8)
        #expect(mappings[1] == StartupPageRelease.Mapping(start: 0x55d0c0b2c000, end: 0x55d0c1e00000, permissions: "r-xp",
                                                          path: "/usr/bin/riftgate", residentKiB: 10536, anonymousKiB: 0))
        #expect(mappings[3].path == "/opt/my lib/lib with spaces.so")
        #expect(mappings[5].path == "")
        #expect(mappings[7].path == "[vdso]")
    }

    @Test("only resident, read-only file mappings without a copy-on-write page are released")
    func releasableMappings() {
        let releasable = StartupPageRelease.mappings(inSmaps: Self.sample).map(\.isReleasable)
        // RELRO (copied pages), code, data, constants with spaces in the path, nothing resident, anonymous, a device,
        // the vDSO.
        #expect(releasable == [false, true, false, true, false, false, false, false])
    }

    @Test("a read-only file mapping is unmapped and reads the same after; a copy-on-write page is kept")
    func releaseKeepsEveryByte() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = 64
        let length = pages * pageSize
        var template = Array("/tmp/riftgate-pages-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(descriptor >= 0)
        defer {
            close(descriptor)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        let pattern = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / pageSize) }
        let written = pattern.withUnsafeBytes { write(descriptor, $0.baseAddress, length) }
        try #require(written == length)

        let clean = try mapped(length, PROT_READ, descriptor)
        defer { munmap(clean, length) }
        let copied = try mapped(length, PROT_READ | PROT_WRITE, descriptor)
        defer { munmap(copied, length) }
        var sum = 0
        for page in 0..<pages { sum &+= Int(clean[page * pageSize]) &+ Int(copied[page * pageSize]) }
        copied[5] = pattern[5] &+ 1  // a copy-on-write page, as the loader's relocations make
        #expect(mprotect(copied, length, PROT_READ) == 0)  // read-only again, as RELRO is

        let before = try mapping(at: clean), copiedBefore = try mapping(at: copied)
        #expect(before.residentKiB == length / 1024 && before.isReleasable)
        #expect(copiedBefore.anonymousKiB > 0 && !copiedBefore.isReleasable)

        let outcome = StartupPageRelease.release()
        #expect(outcome.mappings > 0 && outcome.failures == 0)
        #expect(try mapping(at: clean).residentKiB == 0)
        #expect(try mapping(at: copied).residentKiB == copiedBefore.residentKiB)
        #expect(copied[5] == pattern[5] &+ 1, "the copy-on-write page was dropped")

        _ = clean[10 * pageSize]  // one page back, without its neighbours (no fault-around)
        #expect(try mapping(at: clean).residentKiB < length / 1024)
        #expect(Array(UnsafeBufferPointer(start: clean, count: length)) == pattern)
        #expect(sum != -1)
    }

    private func mapped(_ length: Int, _ protection: Int32, _ descriptor: Int32) throws -> UnsafeMutablePointer<UInt8> {
        let address = try #require(mmap(nil, length, protection, MAP_PRIVATE, descriptor, 0))
        try #require(address != MAP_FAILED)
        return address.assumingMemoryBound(to: UInt8.self)
    }

    private func mapping(at address: UnsafeMutablePointer<UInt8>) throws -> StartupPageRelease.Mapping {
        let text = String(decoding: try SystemCall.readWholeFile("/proc/self/smaps"), as: UTF8.self)
        let start = UInt(bitPattern: address)
        return try #require(StartupPageRelease.mappings(inSmaps: text).first { $0.start == start })
    }
}
