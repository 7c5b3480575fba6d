import Foundation
import RiftProtocol
import RiftSupport
import Testing
@testable import RiftAgent

/// Builds rtnetlink datagrams the way the kernel lays them out (host byte order, 4-byte alignment).
private enum Netlink {
    static func message(type: UInt16, _ body: [UInt8]) -> [UInt8] {
        let length = 16 + body.count
        var bytes = le32(UInt32(length)) + le16(type) + le16(0) + le32(0) + le32(0) + body
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var bytes = le16(UInt16(4 + value.count)) + le16(type) + value
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func address(family: UInt8, index: UInt32, _ attributes: [UInt8]) -> [UInt8] {
        [family, 24, 0, 0] + le32(index) + attributes
    }

    static func link(index: Int32, flags: UInt32, name: String) -> [UInt8] {
        [0, 0] + le16(1) + le32(UInt32(bitPattern: index)) + le32(flags) + le32(0) + attribute(3, Array(name.utf8) + [0])
    }

    static func route(destinationLength: UInt8, table: UInt8, attributes: [UInt8] = []) -> [UInt8] {
        [2, destinationLength, 0, 0, table, 3, 0, 1] + le32(0) + attributes
    }

    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
}

@Suite("Underlay changes: rtnetlink parsing, relevance, debouncing, resume")
struct UnderlayTests {
    @Test("address, link and route messages decode; several in one datagram, in order")
    func parsesMessages() {
        let v4 = Netlink.message(type: 20, Netlink.address(family: 2, index: 3, Netlink.attribute(1, [10, 0, 0, 9]) + Netlink.attribute(2, [192, 168, 1, 20])))
        let v6 = Netlink.message(type: 21, Netlink.address(family: 10, index: 4, Netlink.attribute(1, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])))
        let up = Netlink.message(type: 16, Netlink.link(index: 5, flags: 0x1 | 0x40, name: "wlan0"))
        let down = Netlink.message(type: 16, Netlink.link(index: 5, flags: 0x1, name: "wlan0"))
        let gone = Netlink.message(type: 17, Netlink.link(index: 6, flags: 0, name: "usb0"))
        let defaultRoute = Netlink.message(type: 25, Netlink.route(destinationLength: 0, table: 254, attributes: Netlink.attribute(4, Netlink.le32(3))))
        let changes = RouteMessageParser.changes(in: v4 + v6 + up + down + gone + defaultRoute)
        #expect(changes == [
            .addressAdded(interface: 3, address: "192.168.1.20"),  // IFA_LOCAL wins over IFA_ADDRESS
            .addressRemoved(interface: 4, address: "2001:db8::1"),
            .link(interface: 5, name: "wlan0", up: true),
            .link(interface: 5, name: "wlan0", up: false),
            .linkRemoved(interface: 6, name: "usb0"),
            .route(interface: 3, isDefault: true, removed: true),
        ])
    }

    @Test("routes outside the main table, unknown types, truncated and lying lengths are skipped, never trusted")
    func skipsWhatIsNotOurs() {
        let local = Netlink.message(type: 24, Netlink.route(destinationLength: 32, table: 255))
        let tableAttribute = Netlink.message(type: 24, Netlink.route(destinationLength: 0, table: 254, attributes: Netlink.attribute(15, Netlink.le32(100))))
        let neighbour = Netlink.message(type: 28, [1, 2, 3, 4])
        #expect(RouteMessageParser.changes(in: local + tableAttribute + neighbour).isEmpty)
        let valid = Netlink.message(type: 20, Netlink.address(family: 2, index: 3, Netlink.attribute(2, [10, 1, 2, 3])))
        #expect(RouteMessageParser.changes(in: Array(valid.prefix(20))).isEmpty)
        var lying = valid
        lying[0] = 0xFF  // a length past the end of the datagram ends it
        #expect(RouteMessageParser.changes(in: lying).isEmpty)
        let shortAddress = Netlink.message(type: 20, Netlink.address(family: 2, index: 3, Netlink.attribute(2, [10, 1, 2])))
        #expect(RouteMessageParser.changes(in: shortAddress).isEmpty)
        for length in 0..<valid.count { _ = RouteMessageParser.changes(in: Array(valid.prefix(length))) }  // no trap on any cut
    }

    @Test("relevant: underlay addresses and default routes; not our interface, tunnels, loopback, link-local or overlay")
    func relevance() throws {
        let names: [Int32: String] = [1: "lo", 2: "eth0", 3: "rift0", 4: "wg-other"]
        let relevance = UnderlayRelevance(ownInterface: "rift0", overlay: IPv4Prefix("100.96.0.0/12"),
                                          interfaceName: { names[$0] }, isIgnored: { $0.hasPrefix("wg") })
        #expect(relevance.matters(.addressAdded(interface: 2, address: "192.168.1.20")))
        #expect(relevance.matters(.addressRemoved(interface: 9, address: "192.168.1.20")), "a vanished interface counts")
        #expect(!relevance.matters(.addressAdded(interface: 3, address: "100.96.0.2")))
        #expect(!relevance.matters(.addressAdded(interface: 2, address: "100.96.0.7")), "overlay addresses are never underlay")
        #expect(!relevance.matters(.addressAdded(interface: 2, address: "fe80::1")))
        #expect(!relevance.matters(.addressAdded(interface: 4, address: "10.9.0.1")))
        #expect(!relevance.matters(.addressAdded(interface: 1, address: "127.0.0.1")))
        #expect(relevance.matters(.route(interface: 2, isDefault: true, removed: false)))
        #expect(!relevance.matters(.route(interface: 2, isDefault: false, removed: false)))
        #expect(!relevance.matters(.route(interface: 3, isDefault: true, removed: false)))
        #expect(relevance.matters(.link(interface: 2, name: "eth0", up: false)))
        #expect(!relevance.matters(.linkRemoved(interface: 3, name: "rift0")))
        #expect(relevance.matters(.lostNotifications))
    }

    @Test("container and VM networks are left alone; a LAN bridge of another name is kept")
    func guestNetworks() {
        for name in ["docker0", "br-3f2a9c81d0e4", "veth1a2b3c4", "virbr0", "vnet3", "lxcbr0", "lxdbr0", "incusbr0",
                     "podman0", "cni-podman0", "cni0", "flannel.1", "cali8d2f1e0a", "vxlan.calico", "kube-ipvs0"] {
            #expect(LocalAddresses.isGuestNetwork(name), "\(name)")
        }
        for name in ["eth0", "enp3s0", "wlan0", "br0", "br-lan", "br-3F2A9C81D0E4", "br-3f2a9c81d0e", "bond0", "eth0.10", "ppp0"] {
            #expect(!LocalAddresses.isGuestNetwork(name), "\(name)")
        }
        let relevance = UnderlayRelevance(ownInterface: "rift0", overlay: nil, interfaceName: { _ in "docker0" },
                                          isIgnored: LocalAddresses.isIgnored)
        #expect(!relevance.matters(.addressRemoved(interface: 5, address: "172.17.0.1")), "docker network rm is no roam")
        #expect(!relevance.matters(.link(interface: 6, name: "veth1a2b3c4", up: true)), "a container starting is no roam")
    }

    @Test("an address on a bridge named like Docker's is not gathered; the same address on another bridge is",
          .enabled(if: geteuid() == 0, "needs root to add an interface"))
    func guestNetworkAddressNotGathered() throws {
        let suffix = String(getpid() % 10_000, radix: 16)
        let guest = "br-\(String(repeating: "0", count: 12 - suffix.count))\(suffix)"
        let other = "rgbr\(getpid() % 10_000)"
        defer { _ = try? Self.ip("link", "del", guest); _ = try? Self.ip("link", "del", other) }
        for (name, address) in [(guest, "198.51.100.81/32"), (other, "198.51.100.82/32")] {
            try Self.ip("link", "add", name, "type", "bridge")
            try Self.ip("address", "add", address, "dev", name)
            try Self.ip("link", "set", name, "up")
        }
        let gathered = LocalAddresses.forICE(excludingInterface: "rift-none", overlay: nil)
        #expect(!gathered.contains("198.51.100.81"), "\(gathered)")
        #expect(gathered.contains("198.51.100.82"), "\(gathered)")
        // Down again before removal, so that ICE tests running at the same time stop gathering them at once.
        _ = try? Self.ip("link", "set", other, "down")
    }

    @Test("a burst becomes one batch after a quiet period; a never-ending burst is still reported after the longest wait")
    func debouncing() {
        var debouncer = ChangeDebouncer(quiet: .milliseconds(250), longest: .seconds(1))
        let start = ContinuousClock.now
        #expect(debouncer.deadline == nil)
        debouncer.add([.addressRemoved(interface: 2, address: "10.0.0.1")], at: start)
        debouncer.add([.addressAdded(interface: 2, address: "10.0.0.2")], at: start + .milliseconds(100))
        #expect(debouncer.takeIfDue(at: start + .milliseconds(300)) == nil)
        #expect(debouncer.takeIfDue(at: start + .milliseconds(350))?.count == 2)
        #expect(debouncer.deadline == nil)
        // A change every 200 ms forever: reported at the longest wait, not never.
        var reportedAt: Duration?
        for step in 0..<20 {
            let now = start + .seconds(10) + .milliseconds(200 * step)
            if debouncer.takeIfDue(at: now) != nil { reportedAt = now - (start + .seconds(10)); break }
            debouncer.add([.link(interface: 2, name: "eth0", up: step % 2 == 0)], at: now)
        }
        #expect(reportedAt == .seconds(1))
    }

    @Test("a gap in the boot-time clock far beyond the tick is a resume; ordinary ticks are not")
    func resume() {
        var detector = ResumeDetector(threshold: .seconds(4))
        #expect(detector.observe(.seconds(100)) == nil)
        #expect(detector.observe(.seconds(101)) == nil)
        #expect(detector.observe(.milliseconds(103_500)) == nil)
        #expect(detector.observe(.seconds(164)) == .milliseconds(60_500))
        #expect(detector.observe(.seconds(165)) == nil)
        let first = ResumeDetector.bootClock()
        #expect(ResumeDetector.bootClock() >= first)
    }

    @Test("the monitor reports an address added to and removed from a real interface, debounced",
          .enabled(if: geteuid() == 0, "needs root to add an interface"))
    func monitorSeesRealChanges() async throws {
        let name = "rgmon\(getpid() % 10_000)"
        let seen = Locked<[[UnderlayChange]]>([])
        let monitor = try UnderlayMonitor(
            relevance: UnderlayRelevance(ownInterface: "rift-none", overlay: nil,
                                         interfaceName: UnderlayRelevance.kernelInterfaceName, isIgnored: { _ in false }),
            quiet: .milliseconds(100), longest: .milliseconds(500)
        ) { batch in seen.withLock { $0.append(batch) } }
        defer { monitor.shutdown() }
        defer { _ = try? Self.ip("link", "del", name) }
        try Self.ip("link", "add", name, "type", "veth", "peer", "name", name + "p")  // no dummy module on every kernel
        let ours: Set<Int32> = [Int32(if_nametoindex(name)), Int32(if_nametoindex(name + "p"))]
        // Left down, so that ICE tests running at the same time never gather the address.
        try Self.ip("address", "add", "198.51.100.77/24", "dev", name)
        try await Self.waitFor { seen.withLock { $0.flatMap { $0 } }.contains { if case .addressAdded(_, "198.51.100.77") = $0 { true } else { false } } }
        try Self.ip("address", "del", "198.51.100.77/24", "dev", name)
        try await Self.waitFor { seen.withLock { $0.flatMap { $0 } }.contains { if case .addressRemoved(_, "198.51.100.77") = $0 { true } else { false } } }
        // Other tests add and remove interfaces at the same time, and a slow (sanitized) build may take more than the
        // quiet time between two `ip` commands, so only batches about this test's interfaces are counted: the changes
        // of one command (the veth pair's two links, an address and its route) arrive as one batch, at most one per
        // command.
        let batchesAboutOurs = seen.withLock { $0.filter { $0.contains { $0.interface.map(ours.contains) ?? false } }.count }
        #expect(batchesAboutOurs <= 3, "each command's burst of changes arrives as one batch")
    }

    private static func ip(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    }

    private static func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
