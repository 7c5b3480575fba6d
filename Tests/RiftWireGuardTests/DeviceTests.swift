import Glibc
import RiftProtocol
import RiftSupport
import Testing
@testable import RiftWireGuard

@Suite("A real WireGuard device in our network namespace", .timeLimit(.minutes(1)))
struct DeviceTests {
    @Test("wireguard-go: create, address, configure peers, read back, shut down without leftovers",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func userspaceLifecycle() throws {
        try checkLifecycle(backend: .userspace)
    }

    @Test("kernel WireGuard: the same lifecycle", .enabled(if: TestHost.kernelHasWireGuard, TestHost.kernelRequirement))
    func kernelLifecycle() throws {
        try checkLifecycle(backend: .kernel)
    }

    @Test("wireguard-go: its UDP sockets' buffers are raised to at least 4 MiB once the device is open",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func userspaceSocketBuffers() throws {
        let (device, _) = try openUserspaceDevice()
        defer { device.shutdown() }
        // `ss -m` shows skmem:(…,rb<receive>,t…,tb<send>,…), twice the size set.
        let sockets = try TestHost.run(["ss", "-Hnuam", "sport", "=", ":\(device.listenPort)"])
        let sizes = sockets.split(separator: ",").compactMap { field -> Int? in
            field.hasPrefix("rb") || field.hasPrefix("tb") ? Int(field.dropFirst(2)) : nil
        }
        #expect(!sizes.isEmpty, "\(sockets)")
        #expect(sizes.allSatisfy { $0 >= 2 * Int(UserspaceWireGuardDevice.socketBufferBytes) }, "\(sockets)")
    }

    @Test("wireguard-go killed from outside: calls report it, shutdown still cleans up",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func wireGuardGoKilled() throws {
        let (device, name) = try openUserspaceDevice()
        defer { device.shutdown() }
        try TestHost.run(["pkill", "-KILL", "-f", "wireguard-go -f \(name)$"])
        #expect { try device.status() } throws: { ($0 as? WireGuardError)?.code == .processExited }
        device.shutdown()
        #expect(!TestHost.socketExists(for: name), "the socket file left by the killed process is removed")
        #expect(!TestHost.attempt(["ip", "link", "show", "dev", name]))
    }

    @Test("wireguard-go: a keepalive asked for is sent at once, the interval stays, an unknown peer is not created",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func keepaliveOnRequest() throws {
        try withQuietPeer { device, _, peerKey in
            // No session yet, so the keepalive starts a handshake: an initiation (148 bytes) goes out.
            let sent = try bytesSent(device, peerKey) { try device.sendKeepalive(to: peerKey, interval: 1) }
            #expect(sent, "nothing sent after the keepalive request")
            #expect(try device.status().peer(peerKey)?.persistentKeepalive == 1)
            let stranger = try TestHost.keyPair().publicKey
            try device.sendKeepalive(to: stranger, interval: 1)
            #expect(try device.status().peer(stranger) == nil, "update_only: no peer is created")
        }
    }

    @Test("kernel backend's keepalive command line: one wg run naming the peer twice sends a keepalive at once",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func keepaliveCommandLine() throws {
        // `wg` speaks UAPI to wireguard-go here and netlink to the kernel, the same peer sections in one request.
        try withQuietPeer { device, name, peerKey in
            let sent = try bytesSent(device, peerKey) { _ = try TestHost.run(WireGuardTool.sendKeepalive(name, peerKey, interval: 1)) }
            #expect(sent, "nothing sent after the keepalive command")
            #expect(try device.status().peer(peerKey)?.persistentKeepalive == 1)
            #expect(try device.status().peers.count == 1, "the peer named twice is still one peer")
        }
    }

    /// A wireguard-go device on a fresh interface with no peer, and the interface's name.
    private func openUserspaceDevice() throws -> (any WireGuardDevice, String) {
        let name = TestHost.randomName("rgt")
        let keys = try TestHost.keyPair()
        let device = try openWireGuardDevice(configuration(name: name, privateKey: keys.privateKey, subnet: 0), backend: .userspace)
        return (device, name)
    }

    /// A wireguard-go device with one peer whose keepalive is off: configuring it sends nothing (turning keepalive on
    /// would, and would start WireGuard's 5 s handshake rate limit).
    private func withQuietPeer(_ body: (any WireGuardDevice, String, PublicKey) throws -> Void) throws {
        let (device, name) = try openUserspaceDevice()
        defer { device.shutdown() }
        let peerKey = try TestHost.keyPair().publicKey
        try device.setPeer(WireGuardPeer(publicKey: peerKey, endpoint: WireGuardEndpoint("127.0.0.1:9"),
                                         allowedIPs: ["100.64.0.9/32"]))
        try body(device, name, peerKey)
    }

    /// Whether the device sent anything to the peer within 2 s of `action`.
    private func bytesSent(_ device: any WireGuardDevice, _ peerKey: PublicKey, after action: () throws -> Void) throws -> Bool {
        let before = try #require(try device.status().peer(peerKey)).txBytes
        try action()
        for _ in 0..<40 {
            if try #require(try device.status().peer(peerKey)).txBytes > before { return true }
            usleep(50_000)
        }
        return false
    }

    /// A configuration in 100.64.<subnet>.0/24 and fd7a:115c:a1e0:<subnet>::/64, so parallel runs differ.
    private func configuration(name: String, privateKey: String, subnet: UInt8) -> InterfaceConfiguration {
        InterfaceConfiguration(name: name, privateKeyBase64: privateKey, ipv4: IPv4Address("100.64.\(subnet).1")!,
                               ipv4PrefixLength: 24, ipv6: IPv6Address("fd7a:115c:a1e0:\(subnet)::1")!, ipv6PrefixLength: 64)
    }

    private func checkLifecycle(backend: WireGuardBackend) throws {
        let name = TestHost.randomName("rgt")
        let subnet = UInt8.random(in: 1...254)
        let keys = try TestHost.keyPair()
        let peerKey = try TestHost.keyPair().publicKey
        let device = try openWireGuardDevice(configuration(name: name, privateKey: keys.privateKey, subnet: subnet), backend: backend)
        defer { device.shutdown() }
        #expect(device.interfaceName == name)

        let link = try TestHost.run(["ip", "-o", "link", "show", "dev", name])
        #expect(link.contains("mtu 1380") && link.contains(",UP"), "\(link)")
        let addresses = try TestHost.run(["ip", "-o", "address", "show", "dev", name])
        #expect(addresses.contains("inet 100.64.\(subnet).1/24") && addresses.contains("inet6 fd7a:115c:a1e0:\(subnet)::1/64"), "\(addresses)")
        #expect(try TestHost.run(["ip", "route", "show", "100.64.\(subnet).0/24"]).contains("dev \(name)"))

        let fresh = try device.status()
        #expect(device.listenPort != 0 && fresh.listenPort == device.listenPort, "port 0 lets WireGuard choose; we read it back")
        #expect(fresh.publicKey == keys.publicKey)
        #expect(fresh.peers.isEmpty)
        #expect { try openWireGuardDevice(configuration(name: name, privateKey: keys.privateKey, subnet: subnet)) } throws: {
            ($0 as? WireGuardError)?.code == .interfaceExists
        }

        let own = ["100.64.\(subnet).3/32", "fd7a:115c:a1e0:\(subnet)::3/128"]
        try device.setPeer(WireGuardPeer(publicKey: peerKey, endpoint: WireGuardEndpoint("192.0.2.7:51820"),
                                         allowedIPs: own, persistentKeepalive: 25))
        let added = try #require(try device.status().peer(peerKey))
        #expect(Set(added.allowedIPs) == Set(own))
        #expect(added.persistentKeepalive == 25 && added.endpoint == "192.0.2.7:51820" && added.lastHandshake == nil)

        try device.setPeer(WireGuardPeer(publicKey: peerKey, allowedIPs: [own[0]]))
        let updated = try #require(try device.status().peer(peerKey))
        #expect(updated.allowedIPs == [own[0]], "allowed IPs are replaced, not added to")
        #expect(updated.persistentKeepalive == nil && updated.endpoint == "192.0.2.7:51820")
        #expect { try device.setPeer(WireGuardPeer(publicKey: peerKey, allowedIPs: ["0.0.0.0/0"])) } throws: {
            ($0 as? WireGuardError)?.code == .invalidConfiguration
        }

        try device.removePeer(peerKey)
        #expect(try device.status().peers.isEmpty)
        try device.removePeer(peerKey)

        device.shutdown()
        device.shutdown()
        #expect(!TestHost.attempt(["ip", "link", "show", "dev", name]), "the interface is gone")
        #expect(!TestHost.wireGuardGoRuns(for: name), "wireguard-go has exited")
        #expect(!TestHost.socketExists(for: name), "the UAPI socket is gone")
        #expect(!(try TestHost.run(["ip", "route", "show"])).contains(name), "no route is left behind")
        #expect(!(try TestHost.run(["ip", "-6", "route", "show"])).contains(name), "no IPv6 route is left behind")
        #expect { try device.status() } throws: { ($0 as? WireGuardError)?.code == .shutDown }
    }
}
