@testable import RiftAgent
import RiftProtocol
import Testing

/// Shared fixtures for the subnet route tests.
enum RouteFixtures {
    static let overlay4 = IPv4Prefix("100.64.0.0/10")!
    static let overlay6 = IPv6Prefix("fd7a:115c:a1e0::/64")!
    static func key(_ seed: UInt8) -> PublicKey { try! PublicKey(bytes: [UInt8](repeating: seed, count: 32)) }
    static func routes(_ texts: String...) -> [SubnetRoute] { texts.map { SubnetRoute($0)! } }
    static let lan = [LocalNetwork(SubnetRoute("192.168.1.0/24")!, on: "eth0"), LocalNetwork(SubnetRoute("fd00:aa::/64")!, on: "eth0")]

    static func plan(accept: Bool = true, local: [LocalNetwork] = lan, advertised: [SubnetRoute] = [],
                     _ peers: [PublicKey: [SubnetRoute]]) -> RoutePlan {
        RoutePlan(overlayIPv4: overlay4, overlayIPv6: overlay6, localNetworks: local, advertised: advertised,
                  acceptRoutes: accept, peerRoutes: peers)
    }
}

@Suite("Subnet routes: the route plan")
struct RoutePlanTests {
    typealias F = RouteFixtures

    @Test("accepted IPv4 and IPv6 routes become allowed IPs and kernel routes")
    func accepted() {
        let plan = F.plan([F.key(2): F.routes("10.20.0.0/16", "fd00:1::/64"), F.key(3): F.routes("172.16.5.0/24")])
        #expect(plan.refusals.isEmpty)
        #expect(plan.allowedIPs(for: F.key(2)) == ["10.20.0.0/16", "fd00:1::/64"])
        #expect(plan.allowedIPs(for: F.key(3)) == ["172.16.5.0/24"])
        #expect(plan.allowedIPs(for: F.key(4)) == [])
        #expect(plan.kernelRoutes.map(\.description) == ["10.20.0.0/16", "172.16.5.0/24", "fd00:1::/64"])
    }

    @Test("accept_routes = false installs nothing and refuses nothing")
    func notAccepting() {
        let plan = F.plan(accept: false, [F.key(2): F.routes("10.20.0.0/16", "100.64.0.0/10")])
        #expect(plan == RoutePlan() && plan.kernelRoutes.isEmpty && plan.allowedIPs(for: F.key(2)).isEmpty)
    }

    @Test("a route covering or inside the overlay is refused, IPv4 and IPv6", arguments: [
        ("100.0.0.0/8", "covers the overlay 100.64.0.0/10"),
        ("100.64.3.0/24", "lies inside the overlay 100.64.0.0/10"),
        ("fd7a:115c::/32", "covers the overlay fd7a:115c:a1e0::/64"),
        ("fd7a:115c:a1e0::/96", "lies inside the overlay fd7a:115c:a1e0::/64"),
    ])
    func overlay(route: String, reason: String) {
        let plan = F.plan([F.key(2): F.routes(route)])
        #expect(plan.kernelRoutes.isEmpty && plan.allowedIPs(for: F.key(2)).isEmpty)
        #expect(plan.refusals == [RoutePlan.Refusal(peer: F.key(2), route: SubnetRoute(route)!, reason: reason)])
    }

    @Test("a route overlapping this machine's LAN is refused, naming the LAN and its interface", arguments: [
        ("192.168.1.0/24", "overlaps this machine's LAN 192.168.1.0/24 on eth0"),
        ("192.168.0.0/16", "overlaps this machine's LAN 192.168.1.0/24 on eth0"),
        ("192.168.1.128/25", "overlaps this machine's LAN 192.168.1.0/24 on eth0"),
        ("fd00:aa::/48", "overlaps this machine's LAN fd00:aa::/64 on eth0"),
    ])
    func ownLAN(route: String, reason: String) {
        let plan = F.plan([F.key(2): F.routes(route, "10.9.0.0/16")])
        #expect(plan.allowedIPs(for: F.key(2)) == ["10.9.0.0/16"])
        #expect(plan.refusals.map(\.reason) == [reason])
    }

    @Test("a route overlapping one this machine advertises is refused")
    func ownAdvertised() {
        let plan = F.plan(advertised: F.routes("10.50.0.0/16"), [F.key(2): F.routes("10.50.1.0/24")])
        #expect(plan.kernelRoutes.isEmpty)
        #expect(plan.refusals.map(\.reason) == ["overlaps 10.50.0.0/16, which this machine advertises"])
    }

    @Test("overlapping routes of two peers: the lower public key wins, whatever the order given, and the other is refused")
    func tieBreak() {
        for order in [[F.key(9), F.key(3)], [F.key(3), F.key(9)]] {
            var peers: [PublicKey: [SubnetRoute]] = [:]
            peers[order[0]] = order[0] == F.key(9) ? F.routes("10.1.2.0/24", "fd00:2::/64") : F.routes("10.1.0.0/16", "fd00:2::/48")
            peers[order[1]] = order[1] == F.key(9) ? F.routes("10.1.2.0/24", "fd00:2::/64") : F.routes("10.1.0.0/16", "fd00:2::/48")
            let plan = F.plan(peers)
            #expect(plan.allowedIPs(for: F.key(3)) == ["10.1.0.0/16", "fd00:2::/48"])
            #expect(plan.allowedIPs(for: F.key(9)).isEmpty)
            #expect(plan.refusals.map(\.route.description) == ["10.1.2.0/24", "fd00:2::/64"])
            #expect(plan.refusals.allSatisfy { $0.peer == F.key(9) })
            #expect(plan.refusals[0].reason == "overlaps 10.1.0.0/16 of peer \(F.key(3)), accepted first (lower public key)")
        }
    }

    @Test("one peer's own overlapping or repeated routes are all kept (no refusal against itself)")
    func samePeer() {
        let plan = F.plan([F.key(2): F.routes("10.1.0.0/16", "10.1.2.0/24", "10.1.0.0/16")])
        #expect(plan.refusals.isEmpty)
        #expect(plan.allowedIPs(for: F.key(2)) == ["10.1.0.0/16", "10.1.2.0/24"])
    }

    @Test("identical routes from two peers: the second is refused")
    func identical() {
        let plan = F.plan([F.key(5): F.routes("10.7.0.0/16"), F.key(4): F.routes("10.7.0.0/16")])
        #expect(plan.allowedIPs(for: F.key(4)) == ["10.7.0.0/16"])
        #expect(plan.refusals.map(\.peer) == [F.key(5)])
    }
}
