import Foundation
import Logging
@testable import RiftAgent
import RiftProtocol
import RiftSupport
import Testing

@Suite("Exit nodes: configuration, the exit side's table, the client side's policy routing (fake host)")
struct ExitNodeTests {
    typealias F = RouteFixtures

    private static let base = "hub = \"wss://hub.example\"\nnetwork = \"home\"\nname = \"a\"\nsecrets_file = \"s\"\n"

    private func peer(_ seed: UInt8, _ name: String, dns: String? = nil) -> PeerInfo {
        var info = PeerInfo(publicKey: F.key(seed), name: name, ipv4: IPv4Address("100.64.0.\(seed)")!,
                            ipv6: IPv6Address("fd7a:115c:a1e0::\(seed)")!)
        info.dnsName = dns
        return info
    }

    private func welcome(_ peers: [PeerInfo]) -> Welcome {
        Welcome(version: 3, network: "home", me: peer(1, "a"), ipv4Prefix: F.overlay4, ipv6Prefix: F.overlay6, peers: peers,
                ice: ICEServers(), heartbeatSeconds: 25)
    }

    /// An installer using exit node `exitNode`, peers in `approved` approved as exit nodes.
    private func client(_ system: FakeRouteSystem, exitNode: String = "Laptop-B", approved: Locked<Set<PublicKey>>,
                        exempt: [String] = ["192.0.2.10", "2001:db8::10"]) -> RouteInstaller {
        let routes = RouteInstaller(interface: "rg0", advertised: [], acceptRoutes: false, masquerade: true, exitNode: exitNode,
                                    underlayServers: { _ in exempt }, system: system, logger: Logger(label: "test"))
        routes.exitApproval = { info in approved.withLock { $0.contains(info.publicKey) } }
        return routes
    }

    // MARK: configuration

    @Test("exit_node and advertise_exit_node parse, survive a rewrite, and are refused together")
    func configuration() throws {
        let using = try AgentConfiguration.parse(Self.base + "exit_node = \"laptop-b\"\n", path: "riftgate.toml")
        #expect(using.exitNode == "laptop-b" && !using.advertiseExitNode)
        #expect(try AgentConfiguration.parse(using.tomlText, path: "written") == using)
        let offering = try AgentConfiguration.parse(Self.base + "advertise_exit_node = true\n", path: "riftgate.toml")
        #expect(offering.advertiseExitNode && offering.exitNode == nil)
        #expect(try AgentConfiguration.parse(offering.tomlText, path: "written") == offering)
        #expect(try AgentConfiguration.parse(Self.base + "exit_node = \"\"\n", path: "riftgate.toml").exitNode == nil)
        do {
            _ = try AgentConfiguration.parse(Self.base + "exit_node = \"b\"\nadvertise_exit_node = true\n", path: "riftgate.toml")
            Issue.record("accepted an exit node that uses an exit node")
        } catch {
            #expect("\(error)".contains("cannot send its traffic through an exit node and be one"), "\(error)")
        }
        #expect(throws: AgentError.self) { try AgentConfiguration.parse(Self.base + "advertise_exit_node = \"yes\"\n", path: "r") }
        #expect(throws: AgentError.self) { try AgentConfiguration.parse(Self.base + "exit_node = 3\n", path: "r") }
    }

    @Test("the hubs' hosts for the exemptions: names, ports, IPv6 brackets, every configured hub")
    func hubHost() {
        #expect(ICEServerList.hubHost("wss://hub.example.org:8443/") == "hub.example.org")
        #expect(ICEServerList.hubHost("ws://[::1]:8080") == "::1")
        #expect(ICEServerList.hubHost("wss://192.0.2.1") == "192.0.2.1")
        #expect(ICEServerList.hubHost("hub.example.org") == nil)
        let servers = ICEServerList.underlayServers(
            hubs: ["ws://192.0.2.1:8080", "wss://[2001:db8::1]:443"], ice: ICEServers(stun: ["stun:198.51.100.7:3478"],
                                                        turn: [TURNServer(urls: ["turn:[2001:db8::7]:3478?transport=udp"], username: "u", credential: "c", expiresAt: 0)]))
        #expect(servers == ["192.0.2.1", "198.51.100.7", "2001:db8::1", "2001:db8::7"].sorted(),
                "every configured hub is exempt, not only the first: failover must work through an exit node")
    }

    // MARK: the exit side

    @Test("an exit node forwards from the interface to anywhere but the interface and masquerades v4 and v6 (golden)")
    func exitRuleset() {
        let rules = RouteRuleset(interface: "rg0", advertised: F.routes("192.168.1.0/24"), masquerade: true, exitNode: true,
                                 overlayIPv4: F.overlay4, overlayIPv6: F.overlay6)
        #expect(rules.sysctls == ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"])
        #expect(rules.script == """
            table inet riftgate_routes_rg0
            delete table inet riftgate_routes_rg0
            table inet riftgate_routes_rg0 {
              chain forward {
                type filter hook forward priority filter; policy accept;
                oifname "rg0" ct state established,related accept
                iifname "rg0" ip daddr { 192.168.1.0/24 } accept
                iifname "rg0" oifname != "rg0" accept
                iifname "rg0" drop
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname != "rg0" ip saddr 100.64.0.0/10 masquerade
                oifname != "rg0" ip6 saddr fd7a:115c:a1e0::/64 masquerade
              }
            }

            """)
        let bare = RouteRuleset(interface: "rg0", advertised: [], masquerade: false, exitNode: true)
        #expect(bare.forwards && !bare.script.contains("postrouting") && bare.script.contains("iifname \"rg0\" oifname != \"rg0\" accept"))
    }

    @Test("the exit side loads its table and turns both forwarding sysctls on, and restores them on down")
    func exitInstaller() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.sysctls = ["net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"] }
        let routes = RouteInstaller(interface: "rg0", advertised: [], acceptRoutes: false, masquerade: true, advertiseExitNode: true,
                                    system: system, logger: Logger(label: "test"))
        routes.welcome(welcome([peer(2, "b")]))
        #expect(system.log == ["nft riftgate_routes_rg0 load", "sysctl net.ipv4.ip_forward=1", "sysctl net.ipv6.conf.all.forwarding=1"])
        #expect(routes.status.exitNode == AgentStatus.ExitNode(advertised: true, using: nil, state: nil, approved: false))
        #expect(routes.status.approved == nil)
        // The hub's welcome describes this machine too: its approvals as of this join.
        var approvedWelcome = welcome([peer(2, "b")])
        approvedWelcome.me.exitNode = true
        approvedWelcome.me.routes = F.routes("192.168.1.0/24")
        routes.welcome(approvedWelcome)
        #expect(routes.status.exitNode?.approved == true && routes.status.approved == ["192.168.1.0/24"])
        #expect(routes.status.lines.contains("  approved on the hub (at join): 192.168.1.0/24"))
        #expect(routes.status.exitNode?.line == "exit node: offered by this machine (approved at join), using none")
        system.clear()
        routes.removeAll()
        #expect(system.log == ["nft riftgate_routes_rg0 delete", "sysctl net.ipv4.ip_forward=0", "sysctl net.ipv6.conf.all.forwarding=0"])
    }

    // MARK: the client side

    @Test("the policy routing: exact ip commands in install order, removal in reverse")
    func exitRouting() {
        let routing = ExitRouting(interface: "rg0", exempt: ["2001:db8::10", "192.0.2.10", "not-an-address", "192.0.2.10"])
        #expect(routing.exempt == ["192.0.2.10", "2001:db8::10"])
        let install = [
            "route replace default dev rg0 table 21095",
            "rule add priority 32760 to 192.0.2.10 lookup main",
            "rule add priority 32760 ipproto udp sport 31000-31799 lookup main",
            "rule add priority 32761 lookup main suppress_prefixlength 0",
            "rule add priority 32762 not fwmark 21095 lookup 21095",
            "-6 route replace default dev rg0 table 21095",
            "-6 rule add priority 32760 to 2001:db8::10 lookup main",
            "-6 rule add priority 32760 ipproto udp sport 31000-31799 lookup main",
            "-6 rule add priority 32761 lookup main suppress_prefixlength 0",
            "-6 rule add priority 32762 not fwmark 21095 lookup 21095",
        ]
        #expect(routing.installCommands.map { $0.joined(separator: " ") } == install)
        #expect(routing.removeCommands.map { $0.joined(separator: " ") } == [
            "-6 rule del priority 32762 not fwmark 21095 lookup 21095",
            "-6 rule del priority 32761 lookup main suppress_prefixlength 0",
            "-6 rule del priority 32760 ipproto udp sport 31000-31799 lookup main",
            "-6 rule del priority 32760 to 2001:db8::10 lookup main",
            "-6 route flush table 21095",
            "rule del priority 32762 not fwmark 21095 lookup 21095",
            "rule del priority 32761 lookup main suppress_prefixlength 0",
            "rule del priority 32760 ipproto udp sport 31000-31799 lookup main",
            "rule del priority 32760 to 192.0.2.10 lookup main",
            "route flush table 21095",
        ])
    }

    @Test("the exit node is matched by DNS label first, then name, ignoring case; absent or unapproved means waiting")
    func choice() {
        let b = peer(3, "Laptop B", dns: "laptop-b.home.rift")
        let other = peer(2, "laptop-b")  // a name equal to b's label: the label wins
        #expect(ExitNodeChoice(wanted: "LAPTOP-B", peers: [other, b], approved: { _ in true }).peer == F.key(3))
        #expect(ExitNodeChoice(wanted: "laptop b", peers: [other, b], approved: { _ in true }).peer == F.key(3))
        let absent = ExitNodeChoice(wanted: "c", peers: [b], approved: { _ in true })
        #expect(absent.peer == nil && absent.state == "waiting: no peer named c is in the network")
        let unapproved = ExitNodeChoice(wanted: "laptop-b", peers: [b], approved: { _ in false })
        #expect(unapproved.peer == nil && unapproved.state.hasPrefix("waiting: Laptop B is not an approved exit node"))
        var approvedB = b
        approvedB.exitNode = true
        #expect(RouteInstaller.approvedExitNode(approvedB) && !RouteInstaller.approvedExitNode(b))
    }

    @Test("client: routes through B only while B is present and approved; fail open when it leaves; clean down")
    func client() {
        let system = FakeRouteSystem()
        let approved = Locked<Set<PublicKey>>([])
        let routes = client(system, approved: approved)
        let b = peer(3, "b", dns: "laptop-b.home.rift")
        routes.welcome(welcome([peer(2, "c"), b]))
        // Present but not approved: nothing routed.
        #expect(!system.log.contains { $0.hasPrefix("ip") })
        #expect(routes.allowedIPs(for: F.key(3)).isEmpty)
        #expect(routes.status.exitNode?.state?.hasPrefix("waiting: b is not an approved exit node") == true)
        approved.withLock { $0.insert(F.key(3)) }
        system.clear()
        routes.joined(b)  // the hub re-announces b once approved
        let expected = ExitRouting(interface: "rg0", exempt: ["192.0.2.10", "2001:db8::10"])
        #expect(system.log == expected.installCommands.map { "ip " + $0.joined(separator: " ") })
        #expect(routes.allowedIPs(for: F.key(3)) == ["0.0.0.0/0", "::/0"])
        #expect(routes.allowedIPs(for: F.key(2)).isEmpty)
        #expect(routes.status.exitNode == AgentStatus.ExitNode(advertised: false, using: "b", state: "active"))
        system.clear()
        routes.joined(b)  // unchanged: nothing run again
        #expect(system.log.isEmpty)
        routes.left(F.key(3))
        #expect(system.log == expected.removeCommands.filter { !$0.contains("flush") }.map { "ip " + $0.joined(separator: " ") })
        #expect(routes.allowedIPs(for: F.key(3)).isEmpty)
        #expect(routes.status.exitNode?.state == "waiting: no peer named Laptop-B is in the network")
        routes.joined(b)
        system.clear()
        routes.removeAll()
        #expect(system.log == expected.removeCommands.filter { !$0.contains("flush") }.map { "ip " + $0.joined(separator: " ") })
        #expect(routes.allowedIPs(for: F.key(3)).isEmpty)
    }

    @Test("client: a failing ip command rolls everything back and says why (fail open)")
    func installFailure() {
        let system = FakeRouteSystem()
        system.state.withLock { $0.failIP = true }
        let approved = Locked<Set<PublicKey>>([F.key(3)])
        let routes = client(system, approved: approved)
        routes.welcome(welcome([peer(3, "laptop-b")]))
        #expect(routes.allowedIPs(for: F.key(3)).isEmpty)
        #expect(routes.status.exitNode?.state?.hasPrefix("waiting: cannot install the policy routing") == true)
        #expect(routes.status.lastError?.contains("Operation not permitted") == true)
        // Everything install would add is undone, whatever got in.
        let undo = ExitRouting(interface: "rg0", exempt: ["192.0.2.10", "2001:db8::10"]).removeCommands
        #expect(Array(system.log.suffix(undo.count - 2)) == undo.filter { !$0.contains("flush") }.map { "ip " + $0.joined(separator: " ") })
    }

    @Test("start after a crash: every rule at the exit priorities and the table are removed, whatever the configuration")
    func crashCleanup() {
        let system = FakeRouteSystem()
        system.state.withLock {
            $0.staleRules = ["rule del priority 32760": 3, "rule del priority 32762": 1, "-6 rule del priority 32761": 1]
        }
        let routes = RouteInstaller(interface: "rg0", advertised: [], acceptRoutes: false, masquerade: true,
                                    system: system, logger: Logger(label: "test"))
        routes.removeAll()
        let cleanup = system.state.withLock { $0.cleanupLog }
        #expect(cleanup.filter { $0 == "ip rule del priority 32760" }.count == 4)  // three removed, then "no such rule"
        #expect(cleanup.filter { $0 == "ip rule del priority 32762" }.count == 2)
        #expect(cleanup.filter { $0 == "ip -6 rule del priority 32761" }.count == 2)
        #expect(cleanup.contains("ip route flush table 21095") && cleanup.contains("ip -6 route flush table 21095"))
        #expect(system.state.withLock { $0.staleRules.values.allSatisfy { $0 == 0 } })
        // Once per run.
        routes.removeAll()
        #expect(system.state.withLock { $0.cleanupLog }.count == cleanup.count)
    }

    @Test("status text and JSON show the exit node")
    func status() throws {
        let exit = AgentStatus.ExitNode(advertised: false, using: "b", state: "waiting: no peer named b is in the network")
        #expect(exit.line == "exit node: not offered, using b: waiting: no peer named b is in the network")
        let routes = AgentStatus.Routes(advertised: [], accepted: false, exitNode: exit)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(routes), as: UTF8.self)
        #expect(json.contains(#""exit_node":{"#) && json.contains(#""using":"b""#) && json.contains(#""advertised":false"#))
        // `riftgate status` decodes what the control socket sends (snake case) before printing it.
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(AgentStatus.Routes.self, from: Data(json.utf8)) == routes)
        #expect(routes.lines.last == exit.line)
        var agent = AgentStatus.placeholder
        agent.routes = routes
        #expect(agent.compactText.contains("\n" + exit.line))
        #expect(!agent.compactText.contains("routes advertised"), "no routes line when there are none")
    }
}
