import Foundation
@testable import RiftAgent
import RiftProtocol
import RiftSupport
import Testing

@Suite("Hosts file editing in place")
struct HostsFileTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "riftgate-hosts-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
    let original = "127.0.0.1 localhost\n# keep me\n"

    private func inode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
    }

    private func table(_ labels: [String: UInt8], domain: String? = "home.rift") -> NameTable {
        var table = NameTable()
        let peer = { (label: String, n: UInt8) in
            PeerInfo(publicKey: try! PublicKey(bytes: [UInt8](repeating: n, count: 32)), name: label,
                     ipv4: IPv4Address("100.64.0.\(n)")!, ipv6: IPv6Address("fd00::\(n)")!, dnsName: label)
        }
        let welcome = Welcome(version: 3, network: "home", me: peer("me", 1), ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                              ipv6Prefix: IPv6Prefix("fd00::/64")!, peers: labels.map(peer), ice: ICEServers(),
                              heartbeatSeconds: 25, dnsDomain: domain)
        _ = table.welcome(welcome)
        return table
    }

    @Test("the file is rewritten in place: same inode, owner and mode; unchanged content is not written")
    func inPlace() throws {
        let path = directory + "/hosts"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        let before = try inode(path)
        let registrar = HostsFileRegistrar(path: path, interface: "rg0")
        try registrar.register(table(["laptop-b": 2]))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(original + "# BEGIN riftgate rg0 "))
        #expect(text.contains("100.64.0.1 me.home.rift\nfd00::1 me.home.rift\n100.64.0.2 laptop-b.home.rift\nfd00::2 laptop-b.home.rift\n# END riftgate rg0\n"))
        #expect(try inode(path) == before)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        let unchanged = try HostsFile.edit(path) { HostsBlock(interface: "rg0").rewrite($0, lines: table(["laptop-b": 2]).hostsLines) }
        #expect(!unchanged)
        try registrar.unregister()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
        #expect(try inode(path) == before)
    }

    @Test("a missing file is created only when there is something to write")
    func missingFile() throws {
        let path = directory + "/absent"
        let registrar = HostsFileRegistrar(path: path, interface: "rg0")
        try registrar.unregister()
        #expect(!FileManager.default.fileExists(atPath: path))
        try registrar.register(table([:]))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("100.64.0.1 me.home.rift"))
    }

    @Test("no domain from the hub (version 1 or 2): nothing written")
    func noDomain() throws {
        let path = directory + "/hosts"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        try HostsFileRegistrar(path: path, interface: "rg0").register(table(["laptop-b": 2], domain: nil))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    }

    @Test("two agents rewriting one file at once from two threads lose neither block (the lock)")
    func concurrentAgents() async throws {
        let path = directory + "/hosts"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        await withTaskGroup(of: Void.self) { group in
            for interface in ["rg0", "rg1"] {
                group.addTask {
                    let registrar = HostsFileRegistrar(path: path, interface: interface)
                    for round in 0..<40 { try? registrar.register(table(["peer-\(round)": UInt8(2 + round % 3)])) }
                }
            }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(original))
        #expect(text.contains("# END riftgate rg0\n") && text.contains("# END riftgate rg1\n"))
        #expect(text.components(separatedBy: "peer-39.home.rift").count == 5, "each block ends on its last round (2 lines each)")
    }

    @Test("an edit waits while another writer holds the file's lock, then goes ahead")
    func waitsForTheLock() throws {
        let path = directory + "/hosts"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        let other = open(path, O_RDWR)
        defer { close(other) }
        #expect(flock(other, LOCK_EX) == 0)
        let done = Locked(false)
        let editor = Thread {
            try? HostsFileRegistrar(path: path, interface: "rg0").register(table([:]))
            done.withLock { $0 = true }
        }
        editor.start()
        // Blocking sleeps, not Task.sleep: on a cooperative pool saturated by parallel tests (TSan run) an awaited
        // 300 ms once took longer than the editor's 5 s lock timeout, and the editor gave up before the unlock.
        usleep(300_000)
        #expect(!done.withLock { $0 }, "no write while the lock is held")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
        flock(other, LOCK_UN)
        for _ in 0..<200 where !done.withLock({ $0 }) { usleep(20_000) }
        #expect(done.withLock { $0 })
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("# BEGIN riftgate rg0 "))
    }
}
