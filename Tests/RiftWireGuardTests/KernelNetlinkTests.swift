import Glibc
import RiftProtocol
import RiftSupport
import Testing
@testable import RiftWireGuard

/// The kernel backend's netlink reads and changes against `wg` on the same device. Runs where the kernel has WireGuard
/// (in CI: inside Tests/e2e/test_kernel_wireguard.py's VM, which runs this suite).
@Suite("Kernel WireGuard over netlink", .timeLimit(.minutes(1)))
struct KernelNetlinkTests {
    /// A kernel device on subnet `100.64.<subnet>.0/24`, with its name and public key.
    private func kernelDevice(subnet: Int) throws -> (device: any WireGuardDevice, name: String, publicKey: PublicKey) {
        let name = TestHost.randomName("rgn")
        let keys = try TestHost.keyPair()
        let configuration = InterfaceConfiguration(name: name, privateKeyBase64: keys.privateKey,
                                                   ipv4: IPv4Address("100.64.\(subnet).1")!, ipv4PrefixLength: 24,
                                                   ipv6: IPv6Address("fd7a:115c:a1e0:\(subnet)::1")!, ipv6PrefixLength: 64)
        return (try openWireGuardDevice(configuration, backend: .kernel), name, keys.publicKey)
    }

    @Test("netlink reports what wg show dump does: port, key, endpoints of both families, allowed IPs, keepalive",
          .enabled(if: TestHost.kernelHasWireGuard, TestHost.kernelRequirement))
    func sameAsDump() throws {
        let (device, name, publicKey) = try kernelDevice(subnet: 77)
        defer { device.shutdown() }
        let first = try TestHost.keyPair().publicKey
        let second = try TestHost.keyPair().publicKey
        let third = try TestHost.keyPair().publicKey
        try device.setPeer(WireGuardPeer(publicKey: first, endpoint: WireGuardEndpoint("192.0.2.7:51820"),
                                         allowedIPs: ["100.64.77.3/32", "fd7a:115c:a1e0:77::3/128"], persistentKeepalive: 25))
        try device.setPeer(WireGuardPeer(publicKey: second, endpoint: WireGuardEndpoint("[2001:db8::9]:4242"),
                                         allowedIPs: ["100.64.77.4/32"]))
        // Enough allowed IPs that the kernel splits the peer over several messages (linux/wireguard.h), to be joined.
        let many = (0..<600).map { "10.\($0 / 256).\($0 % 256).0/24" }
        try device.setPeer(WireGuardPeer(publicKey: third, allowedIPs: many))

        let link = NetworkLink(name: name, netns: nil)
        let dump = try KernelWireGuardDevice.readDump(link)
        let netlink = try KernelWireGuardNetlink.status(of: name)
        #expect(netlink.listenPort == dump.listenPort && netlink.listenPort == device.listenPort)
        #expect(netlink.publicKey == publicKey && dump.publicKey == publicKey)
        #expect(netlink.peers.count == 3)
        for expected in dump.peers {
            let peer = try #require(netlink.peer(expected.publicKey))
            #expect(peer.endpoint == expected.endpoint)
            #expect(Set(peer.allowedIPs) == Set(expected.allowedIPs))
            #expect(peer.persistentKeepalive == expected.persistentKeepalive)
            #expect(peer.lastHandshake == expected.lastHandshake && peer.rxBytes == expected.rxBytes)
        }
        #expect(netlink.peer(first)?.endpoint == "192.0.2.7:51820")
        #expect(netlink.peer(second)?.endpoint == "[2001:db8::9]:4242")
        #expect(netlink.peer(third)?.allowedIPs.count == 600)
        #expect(try device.status() == netlink, "the device reads its status over netlink")

        #expect { try KernelWireGuardNetlink.status(of: TestHost.randomName("rgx")) } throws: {
            ($0 as? WireGuardError)?.code == .commandFailed
        }
    }

    @Test("a keepalive asked for over netlink is sent at once, the interval stays, an unknown peer is not created",
          .enabled(if: TestHost.kernelHasWireGuard, TestHost.kernelRequirement))
    func keepaliveOnRequest() throws {
        let (device, name, _) = try kernelDevice(subnet: 79)
        defer { device.shutdown() }
        let peerKey = try TestHost.keyPair().publicKey
        try device.setPeer(WireGuardPeer(publicKey: peerKey, endpoint: WireGuardEndpoint("127.0.0.1:9"),
                                         allowedIPs: ["100.64.79.9/32"]))
        let before = try #require(try device.status().peer(peerKey)).txBytes
        // No session yet, so the keepalive starts a handshake: an initiation (148 bytes) goes out.
        try KernelWireGuardNetlink.sendKeepalive(on: name, to: peerKey, interval: 1)
        var sent = false
        for _ in 0..<40 where !sent {
            sent = try #require(try device.status().peer(peerKey)).txBytes > before
            if !sent { usleep(50_000) }
        }
        #expect(sent, "nothing sent after the keepalive request")
        #expect(try device.status().peer(peerKey)?.persistentKeepalive == 1)
        let stranger = try TestHost.keyPair().publicKey
        try KernelWireGuardNetlink.sendKeepalive(on: name, to: stranger, interval: 1)
        #expect(try device.status().peer(stranger) == nil, "UPDATE_ONLY: no peer is created")
        #expect(try device.status().peers.count == 1)
    }

    @Test("peers set and removed over netlink read back through wg show dump; a growing list is added to, not replaced",
          .enabled(if: TestHost.kernelHasWireGuard, TestHost.kernelRequirement))
    func changesOverNetlink() throws {
        let (device, name, _) = try kernelDevice(subnet: 81)
        defer { device.shutdown() }
        let link = NetworkLink(name: name, netns: nil)
        let first = try TestHost.keyPair().publicKey
        let second = try TestHost.keyPair().publicKey
        let many = (0..<1_500).map { "10.\($0 / 256).\($0 % 256).0/24" }  // two requests: 1,000 per request
        try KernelWireGuardNetlink.setPeer(on: name, WireGuardPeer(publicKey: first, endpoint: WireGuardEndpoint("192.0.2.7:51820"),
                                                                   allowedIPs: [], persistentKeepalive: 25),
                                           allowedIPs: .replace(["100.64.81.3/32", "fd7a:115c:a1e0:81::3/128"] + many))
        try KernelWireGuardNetlink.setPeer(on: name, WireGuardPeer(publicKey: second, endpoint: WireGuardEndpoint("[2001:db8::9]:4242"),
                                                                   allowedIPs: []),
                                           allowedIPs: .replace(["100.64.81.4/32"]))
        var dump = try KernelWireGuardDevice.readDump(link)
        #expect(dump.peer(first)?.endpoint == "192.0.2.7:51820" && dump.peer(first)?.persistentKeepalive == 25)
        #expect(Set(dump.peer(first)?.allowedIPs ?? []) == Set(["100.64.81.3/32", "fd7a:115c:a1e0:81::3/128"] + many))
        #expect(dump.peer(second)?.endpoint == "[2001:db8::9]:4242" && dump.peer(second)?.persistentKeepalive == nil)
        #expect(dump.peer(second)?.allowedIPs == ["100.64.81.4/32"])

        // Endpoint and keepalive only: the allowed IPs stay; then one added; then replaced by fewer.
        try KernelWireGuardNetlink.setPeer(on: name, WireGuardPeer(publicKey: second, endpoint: WireGuardEndpoint("198.51.100.2:9"),
                                                                   allowedIPs: [], persistentKeepalive: 5),
                                           allowedIPs: .keep)
        dump = try KernelWireGuardDevice.readDump(link)
        #expect(dump.peer(second)?.endpoint == "198.51.100.2:9" && dump.peer(second)?.persistentKeepalive == 5)
        #expect(dump.peer(second)?.allowedIPs == ["100.64.81.4/32"])
        try KernelWireGuardNetlink.setPeer(on: name, WireGuardPeer(publicKey: second, allowedIPs: []),
                                           allowedIPs: .add(added: ["192.168.50.0/24"], all: ["100.64.81.4/32", "192.168.50.0/24"]))
        dump = try KernelWireGuardDevice.readDump(link)
        #expect(Set(dump.peer(second)?.allowedIPs ?? []) == ["100.64.81.4/32", "192.168.50.0/24"])
        #expect(dump.peer(second)?.endpoint == "198.51.100.2:9", "no endpoint given: the endpoint stays")
        #expect(dump.peer(second)?.persistentKeepalive == nil, "keepalive nil turns it off, as wg set … off")
        try KernelWireGuardNetlink.setPeer(on: name, WireGuardPeer(publicKey: first, allowedIPs: []),
                                           allowedIPs: .replace(["100.64.81.3/32"]))
        dump = try KernelWireGuardDevice.readDump(link)
        #expect(dump.peer(first)?.allowedIPs == ["100.64.81.3/32"])

        try KernelWireGuardNetlink.removePeer(on: name, second)
        try KernelWireGuardNetlink.removePeer(on: name, try TestHost.keyPair().publicKey)  // unknown: nothing happens
        dump = try KernelWireGuardDevice.readDump(link)
        #expect(dump.peers.map(\.publicKey) == [first])

        // The device itself goes through netlink for all of it and agrees with wg.
        try device.setPeer(WireGuardPeer(publicKey: second, endpoint: WireGuardEndpoint("192.0.2.8:1"), allowedIPs: ["100.64.81.5/32"]))
        try device.setPeer(WireGuardPeer(publicKey: second, endpoint: WireGuardEndpoint("192.0.2.8:1"),
                                         allowedIPs: ["100.64.81.5/32", "fd7a:115c:a1e0:81::5/128"]))
        try device.removePeer(first)
        dump = try KernelWireGuardDevice.readDump(link)
        #expect(dump.peers.map(\.publicKey) == [second])
        #expect(Set(dump.peer(second)?.allowedIPs ?? []) == ["100.64.81.5/32", "fd7a:115c:a1e0:81::5/128"])
        #expect(try device.status() == KernelWireGuardNetlink.status(of: name))

        #expect { try KernelWireGuardNetlink.setPeer(on: TestHost.randomName("rgx"), WireGuardPeer(publicKey: first, allowedIPs: []),
                                                     allowedIPs: .keep) } throws: {
            ($0 as? WireGuardError)?.code == .commandFailed
        }
    }
}
