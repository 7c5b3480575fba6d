import Glibc
import RiftProtocol
import RiftSupport
import Testing
import RiftWireGuard

@Suite("Two wireguard-go devices in two network namespaces", .timeLimit(.minutes(1)))
struct NamespaceTunnelTests {
    @Test("peers joined over a veth pair ping each other and report a handshake",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func tunnelBetweenNamespaces() throws {
        let suffix = TestHost.randomName("")
        let (namespaceA, namespaceB) = ("rgtA\(suffix)", "rgtB\(suffix)")
        // Deleting a namespace also deletes the veth end inside it; defers run even when a check fails.
        defer { _ = TestHost.attempt(["ip", "netns", "delete", namespaceA]) }
        defer { _ = TestHost.attempt(["ip", "netns", "delete", namespaceB]) }
        try TestHost.run(["ip", "netns", "add", namespaceA])
        try TestHost.run(["ip", "netns", "add", namespaceB])
        try TestHost.run(["ip", "link", "add", "rgvA\(suffix)", "netns", namespaceA, "type", "veth",
                          "peer", "name", "rgvB\(suffix)", "netns", namespaceB])
        // TEST-NET-1 (RFC 5737) stays inside the namespaces.
        for (namespace, veth, address) in [(namespaceA, "rgvA\(suffix)", "192.0.2.1/24"), (namespaceB, "rgvB\(suffix)", "192.0.2.2/24")] {
            try TestHost.run(["ip", "-n", namespace, "address", "add", address, "dev", veth])
            try TestHost.run(["ip", "-n", namespace, "link", "set", "dev", veth, "up"])
            try TestHost.run(["ip", "-n", namespace, "link", "set", "dev", "lo", "up"])
        }

        let keysA = try TestHost.keyPair(), keysB = try TestHost.keyPair()
        let deviceA = try openWireGuardDevice(configuration("rgta\(suffix)", keysA.privateKey, host: 1, netns: namespaceA), backend: .userspace)
        defer { deviceA.shutdown() }
        let deviceB = try openWireGuardDevice(configuration("rgtb\(suffix)", keysB.privateKey, host: 2, netns: namespaceB), backend: .userspace)
        defer { deviceB.shutdown() }

        try deviceA.setPeer(WireGuardPeer(publicKey: keysB.publicKey, endpoint: WireGuardEndpoint("192.0.2.2:\(deviceB.listenPort)"),
                                          allowedIPs: ["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], persistentKeepalive: 25))
        try deviceB.setPeer(WireGuardPeer(publicKey: keysA.publicKey, endpoint: WireGuardEndpoint("192.0.2.1:\(deviceA.listenPort)"),
                                          allowedIPs: ["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], persistentKeepalive: 25))

        #expect(ping(from: namespaceA, "100.64.0.2"), "IPv4 through the tunnel")
        #expect(ping(from: namespaceB, "fd7a:115c:a1e0::1"), "IPv6 through the tunnel")

        let peerB = try #require(try deviceA.status().peer(keysB.publicKey))
        let handshake = try #require(peerB.lastHandshake, "a handshake has completed")
        #expect(abs(Int64(time(nil)) - handshake) < 60, "the handshake is recent")
        #expect(peerB.rxBytes > 0 && peerB.txBytes > 0)
        #expect(peerB.endpoint == "192.0.2.2:\(deviceB.listenPort)")
    }

    private func configuration(_ name: String, _ privateKey: String, host: Int, netns: String) -> InterfaceConfiguration {
        InterfaceConfiguration(name: name, privateKeyBase64: privateKey, ipv4: IPv4Address("100.64.0.\(host)")!, ipv4PrefixLength: 10,
                               ipv6: IPv6Address("fd7a:115c:a1e0::\(host)")!, ipv6PrefixLength: 48, netns: netns)
    }

    /// Pings with a 2 s wait each, for up to 16 s, while the first handshake completes. Each device sends a handshake
    /// initiation as soon as its peer is set (persistent keepalive); the first one reaches a device that does not know
    /// its sender yet and is dropped, and WireGuard retries only after 5 s (REKEY_TIMEOUT, plus jitter). Three pings
    /// (the earlier bound) missed that retry on a loaded machine (CI's ASan pass).
    private func ping(from namespace: String, _ address: String) -> Bool {
        let deadline = ContinuousClock.now + .seconds(16)
        repeat {
            if TestHost.attempt(["ip", "netns", "exec", namespace, "ping", "-c", "1", "-W", "2", address]) { return true }
        } while ContinuousClock.now < deadline
        return false
    }
}
