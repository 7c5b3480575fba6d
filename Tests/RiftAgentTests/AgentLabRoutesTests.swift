import Logging
@testable import RiftAgent
import RiftProtocol
import RiftTestSupport
import RiftWireGuard
import Testing

/// The route installer wired into whole agents (lab: fake hub, ICE and WireGuard).
@Suite("Agents in the lab: subnet routes")
struct AgentLabRoutesTests {
    typealias F = RouteFixtures

    @Test("accepted routes reach WireGuard's allowed IPs when a peer is configured, and later for a configured peer")
    func allowedIPs() throws {
        let lab = AgentLab()
        let system = FakeRouteSystem()
        let routes = RouteInstaller(interface: "rg-a", advertised: [], acceptRoutes: true, masquerade: true, system: system,
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let b = try lab.start("b", host: "192.0.2.2", seed: 2)
        lab.settle()  // b has joined when a's welcome lists the peers
        let a = try lab.start("a", host: "192.0.2.1", seed: 1, routes: routes)
        lab.advance(by: 2_000)
        // What a peer_joined with PeerInfo.routes does (protocol version 4); the lab's hub carries no routes.
        routes.setRoutes(F.routes("10.20.0.0/16"), for: b.key)
        try lab.start("c", host: "192.0.2.3", seed: 3)  // any hub event re-checks the plan against WireGuard
        lab.advance(by: 2_000)
        let configured = try #require(lab.device("a")?.peers[b.key])
        #expect(configured.allowedIPs.count == 3, "\(configured.allowedIPs)")
        #expect(configured.allowedIPs.last == "10.20.0.0/16")
        #expect(system.log.contains("ip route replace 10.20.0.0/16 dev rg-a"))
        #expect(lab.device("b")?.peers[a.key]?.allowedIPs.count == 2, "b accepts no routes")

        routes.setRoutes(F.routes("10.20.0.0/16", "fd00:1::/64"), for: b.key)
        try lab.start("d", host: "192.0.2.4", seed: 4)
        lab.advance(by: 2_000)
        let updated = try #require(lab.device("a")?.peers[b.key])
        #expect(Array(updated.allowedIPs.suffix(2)) == ["10.20.0.0/16", "fd00:1::/64"], "\(updated.allowedIPs)")
        #expect(updated.endpoint == configured.endpoint && updated.persistentKeepalive == configured.persistentKeepalive)
        #expect(a.core.status.routes?.installed.map(\.route) == ["10.20.0.0/16", "fd00:1::/64"])
        #expect(a.core.status.text.contains("  route fd00:1::/64 via b"), "\(a.core.status.text)")

        system.clear()
        a.core.shutdown()
        #expect(system.log == ["ip route del 10.20.0.0/16 dev rg-a", "ip -6 route del fd00:1::/64 dev rg-a"])
    }
}
