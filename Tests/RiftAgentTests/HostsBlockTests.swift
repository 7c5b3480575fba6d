import Foundation
@testable import RiftAgent
import Testing

@Suite("Hosts file block (names = hosts)")
struct HostsBlockTests {
    let block = HostsBlock(interface: "rg0")
    let lines = ["100.64.0.2 laptop-b.home.rift", "fd00::2 laptop-b.home.rift"]
    let userFile = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n\n# a comment the user wrote  \n192.168.1.5 nas\n"

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("inserting appends one marked block and keeps every byte before it")
    func insert() {
        let out = text(block.rewrite(bytes(userFile), lines: lines))
        #expect(out == userFile + """
            # BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)
            100.64.0.2 laptop-b.home.rift
            fd00::2 laptop-b.home.rift
            # END riftgate rg0

            """)
        #expect(block.isPresent(in: bytes(out)))
        #expect(!block.isPresent(in: bytes(userFile)))
    }

    @Test("replacing changes only the block; removing gives back the file byte for byte, user lines after the block too")
    func replaceAndRemove() {
        let first = block.rewrite(bytes(userFile), lines: lines)
        let withTail = first + bytes("10.0.0.9 added-after-the-block\n")
        let replaced = text(block.rewrite(withTail, lines: ["100.64.0.3 laptop-c.home.rift"]))
        #expect(replaced.hasPrefix(userFile + "10.0.0.9 added-after-the-block\n# BEGIN riftgate rg0 "))
        #expect(replaced.contains("100.64.0.3 laptop-c.home.rift\n# END riftgate rg0\n"))
        #expect(!replaced.contains("laptop-b"))
        #expect(text(block.rewrite(bytes(replaced), lines: [])) == userFile + "10.0.0.9 added-after-the-block\n")
        #expect(block.rewrite(first, lines: []) == bytes(userFile))
        #expect(block.rewrite(bytes(userFile), lines: []) == bytes(userFile), "nothing to remove: unchanged")
    }

    @Test("a crashed run's block is removed, and a BEGIN without END (a write cut short) with everything after it")
    func staleBlocks() {
        let stale = userFile + "# BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)\n100.64.0.9 old.home.rift\n# END riftgate rg0\n"
        #expect(text(block.rewrite(bytes(stale), lines: [])) == userFile)
        let twice = stale + "# BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)\n100.64.0.8 older.home.rift\n# END riftgate rg0\n"
        let cleaned = text(block.rewrite(bytes(twice), lines: lines))
        #expect(!cleaned.contains("old") && cleaned.components(separatedBy: "# BEGIN riftgate rg0").count == 2)
        let cut = userFile + "# BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)\n100.64.0.9 old.home.ri"
        #expect(text(block.rewrite(bytes(cut), lines: [])) == userFile)
    }

    @Test("two interfaces keep separate blocks, even when one name is a prefix of the other")
    func twoInterfaces() {
        let other = HostsBlock(interface: "rg01")
        let both = other.rewrite(block.rewrite(bytes(userFile), lines: lines), lines: ["100.65.0.2 pc.work.rift"])
        #expect(block.isPresent(in: both) && other.isPresent(in: both))
        let withoutRg0 = text(block.rewrite(both, lines: []))
        #expect(withoutRg0 == userFile + "# BEGIN riftgate rg01 (managed by riftgate; removed on riftgate down)\n100.65.0.2 pc.work.rift\n# END riftgate rg01\n")
        #expect(text(other.rewrite(bytes(withoutRg0), lines: [])) == userFile)
        let rg0Updated = text(block.rewrite(both, lines: ["100.64.0.7 x.home.rift"]))
        #expect(rg0Updated.contains("100.65.0.2 pc.work.rift") && rg0Updated.contains("100.64.0.7 x.home.rift"))
    }

    @Test("a file without a final newline gets one before the block, and keeps it when the block goes")
    func noTrailingNewline() {
        let file = "127.0.0.1 localhost"
        let out = text(block.rewrite(bytes(file), lines: lines))
        #expect(out.hasPrefix("127.0.0.1 localhost\n# BEGIN riftgate rg0 "))
        #expect(text(block.rewrite(bytes(out), lines: [])) == "127.0.0.1 localhost\n")
        #expect(text(block.rewrite([], lines: lines)).hasPrefix("# BEGIN riftgate rg0 "), "an empty file gets just the block")
    }

    @Test("a CRLF file gets CRLF lines, and its markers are found again")
    func crlf() {
        let file = "127.0.0.1 localhost\r\n::1 localhost\r\n"
        let out = text(block.rewrite(bytes(file), lines: lines))
        #expect(out == file + "# BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)\r\n100.64.0.2 laptop-b.home.rift\r\nfd00::2 laptop-b.home.rift\r\n# END riftgate rg0\r\n")
        #expect(text(block.rewrite(bytes(out), lines: [])) == file)
    }
}
