import Foundation
import Logging
@testable import RiftAgent
import RiftProtocol
import RiftSupport
import Testing

/// Records what the installer does to the host.
final class FakeRouteSystem: RouteSystem {
    struct State {
        var log: [String] = []
        var sysctls: [String: String] = [:]
        var tables: [String: String] = [:]
        var failIP = false
        var nft = true
        var networks: [LocalNetwork] = []
        /// Crash cleanup (`ip rule del priority`, `ip route flush table`), kept apart so that the subnet-route tests'
        /// logs stay exact.
        var cleanupLog: [String] = []
        /// Rules a crashed run left, per `ip rule del priority …` command (without "ip").
        var staleRules: [String: Int] = [:]
    }
    let state = Locked(State())

    func ip(_ arguments: [String]) throws {
        try state.withLock {
            let command = arguments.joined(separator: " ")
            let bare = arguments.filter { $0 != "-6" }
            if (bare.count == 4 && bare.starts(with: ["rule", "del", "priority"])) || command.contains("route flush table") {
                $0.cleanupLog.append("ip " + command)
                guard command.contains("rule del") else { return }
                guard let left = $0.staleRules[command], left > 0 else { throw RouteError("RTNETLINK answers: No such file or directory") }
                $0.staleRules[command] = left - 1
                return
            }
            $0.log.append((["ip"] + arguments).joined(separator: " "))
            if $0.failIP { throw RouteError("RTNETLINK answers: Operation not permitted") }
        }
    }
    func loadTable(_ script: String, name: String) throws {
        state.withLock {
            $0.log.append("nft \(name) \(script.contains("chain forward") ? "load" : "delete")")
            $0.tables[name] = script.contains("chain forward") ? script : nil
        }
    }
    var hasNFTables: Bool { state.withLock { $0.nft } }
    func sysctl(_ name: String) -> String? { state.withLock { $0.sysctls[name] } }
    func setSysctl(_ name: String, to value: String) throws {
        state.withLock {
            $0.log.append("sysctl \(name)=\(value)")
            $0.sysctls[name] = value
        }
    }
    func localNetworks(excluding interface: String) -> [LocalNetwork] { state.withLock { $0.networks } }
    var log: [String] { state.withLock { $0.log } }
    func clear() { state.withLock { $0.log = [] } }
}

@Suite("Subnet routes: the installer (fake host)")
struct RouteInstallerTests {
    typealias F = RouteFixtures

    private func peer(_ seed: UInt8) -> PeerInfo {
        PeerInfo(publicKey: F.key(seed), name: "p\(seed)", ipv4: IPv4Address("100.64.0.\(seed)")!, ipv6: IPv6Address("fd7a:115c:a1e0::\(seed)")!)
    }

    private func welcome(_ peers: [PeerInfo]) -> Welcome {
        Welcome(version: 3, network: "home", me: peer(1), ipv4Prefix: F.overlay4, ipv6Prefix: F.overlay6, peers: peers,
                ice: ICEServers(), heartbeatSeconds: 25)
    }

    private func installer(_ system: FakeRouteSystem, advertised: [SubnetRoute] = [], accept: Bool = true) -> RouteInstaller {
        RouteInstaller(interface: "rg0", advertised: advertised, acceptRoutes: accept, masquerade: true, system: system,
                       logger: Logger(label: "test"))
    }

    @Test("accepting: exact ip route commands, allowed IPs, removal of routes no longer planned, all removed on down")
    func accepting() {
        let system = FakeRouteSystem()
        let routes = installer(system)
        routes.welcome(welcome([peer(2), peer(3)]))
        #expect(system.log == ["nft riftgate_routes_rg0 delete"])  // a crashed run's table, if any
        system.clear()
        routes.setRoutes(F.routes("10.20.0.0/16", "fd00:1::/64"), for: F.key(2))
        #expect(system.log == ["ip route replace 10.20.0.0/16 dev rg0", "ip -6 route replace fd00:1::/64 dev rg0"])
        #expect(routes.allowedIPs(for: F.key(2)) == ["10.20.0.0/16", "fd00:1::/64"])
        system.clear()
        routes.setRoutes(F.routes("10.20.0.0/16"), for: F.key(2))
        routes.setRoutes(F.routes("10.30.0.0/16"), for: F.key(3))
        #expect(system.log == ["ip -6 route del fd00:1::/64 dev rg0", "ip route replace 10.30.0.0/16 dev rg0"])
        system.clear()
        routes.left(F.key(3))
        #expect(system.log == ["ip route del 10.30.0.0/16 dev rg0"])
        #expect(routes.allowedIPs(for: F.key(3)).isEmpty)
        #expect(routes.status == AgentStatus.Routes(advertised: [], accepted: true,
                                                     installed: [.init(peer: "p2", route: "10.20.0.0/16")]))
        system.clear()
        routes.removeAll()
        #expect(system.log == ["ip route del 10.20.0.0/16 dev rg0"])
        #expect(routes.allowedIPs(for: F.key(2)).isEmpty && routes.installedRoutes.isEmpty)
    }

    @Test("refusals reach status by peer name, and the LAN comes from the host's interfaces")
    func refusals() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.networks = [LocalNetwork(SubnetRoute("192.168.1.0/24")!, on: "eth0")] }
        let routes = installer(system)
        routes.welcome(welcome([peer(2)]))
        routes.setRoutes(F.routes("192.168.0.0/16", "100.64.0.0/10"), for: F.key(2))
        #expect(!system.log.contains { $0.hasPrefix("ip ") })
        #expect(routes.status.refused == [
            .init(peer: "p2", route: "100.64.0.0/10", reason: "covers the overlay 100.64.0.0/10"),
            .init(peer: "p2", route: "192.168.0.0/16", reason: "overlaps this machine's LAN 192.168.1.0/24 on eth0"),
        ])
        #expect(routes.status.lines.contains("  route 192.168.0.0/16 of p2 REFUSED: overlaps this machine's LAN 192.168.1.0/24 on eth0"))
    }

    @Test("without accept_routes a peer's routes are never installed")
    func notAccepting() {
        let system = FakeRouteSystem()
        let routes = installer(system, accept: false)
        routes.welcome(welcome([peer(2)]))
        routes.setRoutes(F.routes("10.20.0.0/16"), for: F.key(2))
        #expect(!system.log.contains { $0.hasPrefix("ip ") })
        #expect(routes.allowedIPs(for: F.key(2)).isEmpty && routes.status.installed.isEmpty && !routes.status.accepted)
    }

    @Test("a failing ip command is reported in status and retried at the next change")
    func failure() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.failIP = true }
        let routes = installer(system)
        routes.welcome(welcome([peer(2)]))
        routes.setRoutes(F.routes("10.20.0.0/16"), for: F.key(2))
        #expect(routes.status.lastError?.contains("cannot add route 10.20.0.0/16") == true)
        system.state.withLock { $0.failIP = false }
        system.clear()
        routes.setRoutes(F.routes("10.20.0.0/16", "10.21.0.0/16"), for: F.key(2))
        #expect(system.log == ["ip route replace 10.20.0.0/16 dev rg0", "ip route replace 10.21.0.0/16 dev rg0"])
        #expect(routes.status.lastError == nil)
    }

    @Test("advertising: table loaded and forwarding turned on at welcome; on down the table goes and forwarding is restored")
    func advertising() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.sysctls = ["net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "1"] }
        let routes = installer(system, advertised: F.routes("192.168.1.0/24", "fd00:1::/64"), accept: false)
        routes.welcome(welcome([]))
        #expect(system.log == ["nft riftgate_routes_rg0 load", "sysctl net.ipv4.ip_forward=1"])
        #expect(system.state.withLock { $0.tables["riftgate_routes_rg0"] }?.contains("ip saddr 100.64.0.0/10 ip daddr { 192.168.1.0/24 } masquerade") == true)
        #expect(routes.status.advertised == ["192.168.1.0/24", "fd00:1::/64"])
        system.clear()
        routes.joined(peer(2))
        #expect(system.log.isEmpty, "an unchanged table is not loaded again")
        routes.removeAll()
        // IPv6 forwarding was on before this run: left on.
        #expect(system.log == ["nft riftgate_routes_rg0 delete", "sysctl net.ipv4.ip_forward=0"])
        #expect(system.state.withLock { $0.sysctls } == ["net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "1"])
    }

    @Test("crash cleanup: a table left by an earlier run is removed at the first welcome and only once")
    func crashCleanup() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.tables["riftgate_routes_rg0"] = "left by a crashed run" }
        let routes = installer(system, accept: false)
        routes.welcome(welcome([]))
        routes.welcome(welcome([]))
        #expect(system.log == ["nft riftgate_routes_rg0 delete"])
        #expect(system.state.withLock { $0.tables.isEmpty })
        system.clear()
        routes.removeAll()
        #expect(system.log.isEmpty)
    }

    @Test("without nft: advertising says so in status")
    func noNFT() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.nft = false }
        let routes = installer(system, advertised: F.routes("192.168.1.0/24"))
        routes.welcome(welcome([]))
        #expect(routes.status.lastError?.contains("nft is not installed") == true)
    }
}
