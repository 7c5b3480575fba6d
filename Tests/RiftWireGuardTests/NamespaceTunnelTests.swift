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
        try withTunnel { tunnel in
            #expect(ping(from: tunnel.namespaceA, "100.64.0.2"), "IPv4 through the tunnel")
            #expect(ping(from: tunnel.namespaceB, "fd7a:115c:a1e0::1"), "IPv6 through the tunnel")

            let peerB = try #require(try tunnel.deviceA.status().peer(tunnel.peerB.publicKey))
            let handshake = try #require(peerB.lastHandshake, "a handshake has completed")
            #expect(abs(Int64(time(nil)) - handshake) < 60, "the handshake is recent")
            #expect(peerB.rxBytes > 0 && peerB.txBytes > 0)
            #expect(peerB.endpoint == "192.0.2.2:\(tunnel.deviceB.listenPort)")
        }
    }

    /// The agent sets a peer again on every data-path change (right after a connect, the ICE pair usually changes
    /// once or twice) with the same allowed IPs. Replacing them is not atomic in WireGuard (all removed, then added),
    /// so each such set could drop a packet in flight (before the fix: 1-2 of 3,000 pings per 300 sets).
    @Test("setting a peer again with the same allowed IPs, under a ping flood through it, loses no packet",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func resettingAPeerLosesNothing() throws {
        try withTunnel { tunnel in
            try expectNoLoss(through: tunnel) { count in
                // The keepalive alternates as the controlled side's deferred keepalive does; the list stays.
                var peer = tunnel.peerA
                peer.persistentKeepalive = count % 2 == 0 ? nil : 25
                try tunnel.deviceB.setPeer(peer)
            }
        }
    }

    /// A peer that advertises a route gets a longer list of allowed IPs; with `replace_allowed_ips` every such set
    /// removed the peer's overlay addresses for a moment too. Only the new prefixes are sent now.
    @Test("adding allowed IPs to a peer, under a ping flood through it, loses no packet",
          .enabled(if: TestHost.canRunWireGuardGo, TestHost.wireGuardGoRequirement))
    func addingRoutesToAPeerLosesNothing() throws {
        try withTunnel { tunnel in
            try expectNoLoss(through: tunnel) { count in
                // One more /32 of 10.64.0.0/10 each time (up to ~4 million distinct prefixes: never exhausted here).
                var peer = tunnel.peerA
                peer.allowedIPs = tunnel.peerA.allowedIPs + Self.routes(count + 1)
                try tunnel.deviceB.setPeer(peer)
            }
        }
    }

    /// `count` distinct host prefixes in 10.64.0.0/10.
    private static func routes(_ count: Int) -> [String] {
        (0..<count).map { "10.\(64 + $0 >> 16 & 63).\($0 >> 8 & 255).\($0 & 255)/32" }
    }

    /// Sends 3,000 echo requests 1 ms apart from A to B's IPv6 address (set last, so the longest without a route)
    /// while `set` runs again and again on another thread (given how many sets came before), and expects every reply.
    private func expectNoLoss(through tunnel: Tunnel, whileSetting set: @escaping @Sendable (Int) throws -> Void) throws {
        #expect(ping(from: tunnel.namespaceA, "fd7a:115c:a1e0::2"), "the tunnel works before the flood")
        let stop = Locked(false), sets = Locked(0), failures = Locked<[String]>([])
        let setter = try JoinableThread.spawn(name: "rgt-setpeer") {
            while !stop.withLock({ $0 }) {
                do {
                    try set(sets.withLock { $0 })
                    sets.withLock { $0 += 1 }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        let output = (try? TestHost.run(["sh", "-c", "ip netns exec \(tunnel.namespaceA) ping -q -n -c 3000 -i 0.001 -W 1 "
                                              + "fd7a:115c:a1e0::2 || true"], timeout: .seconds(30))) ?? ""
        stop.withLock { $0 = true }
        setter.join()
        #expect(failures.withLock { $0 }.isEmpty, "setPeer failed: \(failures.withLock { $0 })")
        let summary = output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? output
        let counts = summary.split(separator: " ").compactMap { Int($0) }
        #expect(counts.count >= 2 && counts[0] == 3_000 && counts[1] == 3_000,
                "\(summary) with the peer set \(sets.withLock { $0 }) times meanwhile")
        #expect(sets.withLock { $0 } >= 100, "the peer was set \(sets.withLock { $0 }) times during the flood")
    }

    /// Two wireguard-go devices in two fresh namespaces joined by a veth pair, each the other's peer; removed after
    /// `body`, whatever it does.
    private func withTunnel(_ body: (Tunnel) throws -> Void) throws {
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

        let peerB = WireGuardPeer(publicKey: keysB.publicKey, endpoint: WireGuardEndpoint("192.0.2.2:\(deviceB.listenPort)"),
                                  allowedIPs: ["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], persistentKeepalive: 25)
        let peerA = WireGuardPeer(publicKey: keysA.publicKey, endpoint: WireGuardEndpoint("192.0.2.1:\(deviceA.listenPort)"),
                                  allowedIPs: ["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], persistentKeepalive: 25)
        // B first and without keepalive, so that only A starts a handshake, and B knows A when it arrives: set the
        // other way round (each with keepalive, microseconds apart), both sent an initiation at once and each could
        // answer the other's and drop the answer to its own (WireGuard's handshake collision, PROTOCOL.md §9.5).
        var quietA = peerA
        quietA.persistentKeepalive = nil
        try deviceB.setPeer(quietA)
        try deviceA.setPeer(peerB)
        try deviceB.setPeer(peerA)
        try body(Tunnel(namespaceA: namespaceA, namespaceB: namespaceB, deviceA: deviceA, deviceB: deviceB,
                        peerA: peerA, peerB: peerB))
    }

    /// What `withTunnel` built: device A (100.64.0.1) in namespace A, device B (100.64.0.2) in namespace B, and the
    /// peer each was given for the other (`peerA` is A as B's peer).
    private struct Tunnel: Sendable {
        var namespaceA: String
        var namespaceB: String
        var deviceA: any WireGuardDevice
        var deviceB: any WireGuardDevice
        var peerA: WireGuardPeer
        var peerB: WireGuardPeer
    }

    private func configuration(_ name: String, _ privateKey: String, host: Int, netns: String) -> InterfaceConfiguration {
        InterfaceConfiguration(name: name, privateKeyBase64: privateKey, ipv4: IPv4Address("100.64.0.\(host)")!, ipv4PrefixLength: 10,
                               ipv6: IPv6Address("fd7a:115c:a1e0::\(host)")!, ipv6PrefixLength: 48, netns: netns)
    }

    /// Pings with a 2 s wait each, for up to 16 s, while the first handshake completes (a lost initiation is retried
    /// only after 5 s, REKEY_TIMEOUT plus jitter; three pings, the earlier bound, missed that on a loaded machine).
    private func ping(from namespace: String, _ address: String) -> Bool {
        let deadline = ContinuousClock.now + .seconds(16)
        repeat {
            if TestHost.attempt(["ip", "netns", "exec", namespace, "ping", "-c", "1", "-W", "2", address]) { return true }
        } while ContinuousClock.now < deadline
        return false
    }
}
