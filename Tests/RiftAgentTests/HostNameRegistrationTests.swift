import Foundation
import Logging
@testable import RiftAgent
import RiftProtocol
import RiftSupport
import Testing

/// Records every command instead of running it; fails the ones whose first argument after the program is in `failing`.
final class RecordingRunner: Sendable {
    let commands = Locked<[[String]]>([])
    let failing = Locked<Set<String>>([])

    var run: CommandRunner {
        { [commands, failing] command in
            commands.withLock { $0.append(command) }
            if failing.withLock({ $0.contains(command.dropFirst().first ?? "") }) {
                throw AgentError.system("\(command[0]) failed: exit 1")
            }
        }
    }

    func take() -> [[String]] {
        commands.withLock { list in
            let taken = list
            list = []
            return taken
        }
    }
}

@Suite("Registering names with the host (systemd-resolved, hosts file)")
struct HostNameRegistrationTests {
    let logger = Logger(label: "test")

    static func peer(_ n: UInt8, _ label: String?) -> PeerInfo {
        PeerInfo(publicKey: try! PublicKey(bytes: [UInt8](repeating: n, count: 32)), name: label ?? "x",
                 ipv4: IPv4Address("100.64.0.\(n)")!, ipv6: IPv6Address("fd00::\(n)")!, dnsName: label)
    }

    static func welcome(me: UInt8 = 1, peers: [PeerInfo], domain: String? = "home.rift") -> Welcome {
        Welcome(version: domain == nil ? 2 : 3, network: "home", me: peer(me, "me"), ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                ipv6Prefix: IPv6Prefix("fd00::/64")!, peers: peers, ice: ICEServers(), heartbeatSeconds: 25, dnsDomain: domain)
    }

    @Test("the name table follows welcome, join, rename and leave; names the hub should never send are skipped")
    func nameTable() {
        var table = NameTable()
        let mixed = Self.welcome(peers: [Self.peer(2, "laptop-b"), Self.peer(3, "bad name\n1.2.3.4 bank"), Self.peer(4, nil)])
        let first = table.welcome(mixed)
        #expect(first)
        #expect(table.hostsLines == ["100.64.0.1 me.home.rift", "fd00::1 me.home.rift",
                                     "100.64.0.2 laptop-b.home.rift", "fd00::2 laptop-b.home.rift"])
        let again = table.welcome(mixed)
        #expect(!again, "a reconnect's identical welcome changes nothing")
        let renamed = table.update(Self.peer(2, "renamed")), renamedAgain = table.update(Self.peer(2, "renamed"))
        #expect(renamed && !renamedAgain)
        #expect(table.hostsLines.contains("100.64.0.2 renamed.home.rift") && !table.hostsLines.joined().contains("laptop-b"))
        let left = table.remove(Self.peer(2, nil).publicKey), leftAgain = table.remove(Self.peer(2, nil).publicKey)
        #expect(left && !leftAgain)
        #expect(table.hostsLines.count == 2)
        let old = table.welcome(Self.welcome(peers: [Self.peer(2, "laptop-b")], domain: nil))
        let joinedWithoutDomain = table.update(Self.peer(5, "e"))
        #expect(old && table.hostsLines.isEmpty && !joinedWithoutDomain, "no domain: nothing to register")
        let invalid = table.welcome(Self.welcome(peers: [], domain: "Bad..Domain"))
        #expect(!invalid && table.domain == nil)
    }

    /// The routing domains for home.rift on 100.64.0.0/10 and fd00::/64.
    static let routing = ["~home.rift"] + (64...127).map { "~\($0).100.in-addr.arpa" } + ["~0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"]

    @Test("reverse zones cover the overlay prefixes exactly")
    func reverseZones() {
        #expect(ReverseZones.of(IPv4Prefix("100.64.0.0/10")!).count == 64)
        #expect(ReverseZones.of(IPv4Prefix("100.64.0.0/10")!).first == "64.100.in-addr.arpa")
        #expect(ReverseZones.of(IPv4Prefix("100.64.0.0/10")!).last == "127.100.in-addr.arpa")
        #expect(ReverseZones.of(IPv4Prefix("10.1.2.0/24")!) == ["2.1.10.in-addr.arpa"])
        #expect(ReverseZones.of(IPv4Prefix("10.1.0.0/16")!) == ["1.10.in-addr.arpa"])
        #expect(ReverseZones.of(IPv4Prefix("10.1.2.0/23")!) == ["2.1.10.in-addr.arpa", "3.1.10.in-addr.arpa"])
        #expect(ReverseZones.of(IPv4Prefix("10.1.2.4/32")!) == ["4.2.1.10.in-addr.arpa"])
        #expect(ReverseZones.of(IPv4Prefix("0.0.0.0/0")!).isEmpty)
        #expect(ReverseZones.of(IPv6Prefix("fd12:3456:789a::/48")!) == ["a.9.8.7.6.5.4.3.2.1.d.f.ip6.arpa"])
        #expect(ReverseZones.of(IPv6Prefix("fd00::/63")!) == ["0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
                                                             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"])
        #expect(ReverseZones.of(IPv6Prefix("fd00::/64")!) == ["0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"])
    }

    @Test("systemd-resolved: the link's DNS server and routing domains on welcome, nothing per peer, revert on removeAll")
    func resolvedCommands() {
        let runner = RecordingRunner()
        let names = HostNameRegistration(registrar: ResolvedRegistrar(interface: "rg0", run: runner.run), logger: logger)
        names.removeAll()  // at start: nothing applied yet, the link does not even exist
        #expect(runner.take().isEmpty)
        names.welcome(Self.welcome(peers: [Self.peer(2, "laptop-b")]))
        #expect(runner.take() == [["resolvectl", "dns", "rg0", "100.64.0.1"], ["resolvectl", "domain", "rg0"] + Self.routing,
                                  ["resolvectl", "default-route", "rg0", "false"]])
        names.joined(Self.peer(3, "laptop-c"))
        names.left(Self.peer(2, nil).publicKey)
        names.welcome(Self.welcome(peers: [Self.peer(3, "laptop-c")]))  // a reconnect: same address and domain
        #expect(runner.take().isEmpty)
        #expect(names.status == AgentStatus.Names(domain: "home.rift", registration: .resolved))
        names.welcome(Self.welcome(me: 9, peers: []))
        #expect(runner.take() == [["resolvectl", "dns", "rg0", "100.64.0.9"], ["resolvectl", "domain", "rg0"] + Self.routing,
                                  ["resolvectl", "default-route", "rg0", "false"]])
        names.removeAll()
        #expect(runner.take() == [["resolvectl", "revert", "rg0"]])
        names.removeAll()
        #expect(runner.take().isEmpty, "reverted once")
    }

    @Test("systemd-resolved: a failure shows in status and the next welcome tries again; a hub without domain registers nothing")
    func resolvedFailure() {
        let runner = RecordingRunner()
        runner.failing.withLock { $0 = ["domain"] }
        let names = HostNameRegistration(registrar: ResolvedRegistrar(interface: "rg0", run: runner.run), logger: logger)
        names.welcome(Self.welcome(peers: []))
        #expect(runner.take().map { $0[1] } == ["dns", "domain"])
        #expect(names.status.lastError?.contains("resolvectl domain rg0 ~home.rift ~64.100.in-addr.arpa … failed") == true)
        runner.failing.withLock { $0 = ["default-route"] }  // an old resolvectl without the verb: not fatal
        names.welcome(Self.welcome(peers: []))
        #expect(runner.take().map { $0[1] } == ["dns", "domain", "default-route"])
        #expect(names.status.lastError == nil)

        let half = RecordingRunner()
        half.failing.withLock { $0 = ["domain"] }
        let halfDone = HostNameRegistration(registrar: ResolvedRegistrar(interface: "rg0", run: half.run), logger: logger)
        halfDone.welcome(Self.welcome(peers: []))
        halfDone.removeAll()
        #expect(half.take().map { $0[1] } == ["dns", "domain", "revert"], "a half-done registration is reverted too")

        let old = RecordingRunner()
        let v2 = HostNameRegistration(registrar: ResolvedRegistrar(interface: "rg0", run: old.run), logger: logger)
        v2.welcome(Self.welcome(peers: [Self.peer(2, "b")], domain: nil))
        v2.removeAll()
        #expect(old.take().isEmpty)
        #expect(v2.status == AgentStatus.Names(domain: nil, registration: .resolved))
    }

    @Test("hosts strategy end to end through the registration: welcome, rename, leave, removeAll; a crashed run's block goes at start")
    func hostsRegistration() throws {
        let directory = NSTemporaryDirectory() + "riftgate-names-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/hosts"
        let stale = "# BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)\n100.64.0.7 ghost.home.rift\n# END riftgate rg0\n"
        try ("127.0.0.1 localhost\n" + stale).write(toFile: path, atomically: false, encoding: .utf8)
        let names = HostNameRegistration.make(mode: .hosts, interface: "rg0", hostsFile: path, logger: logger)
        names.removeAll()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "127.0.0.1 localhost\n")
        names.welcome(Self.welcome(peers: [Self.peer(2, "laptop-b")]))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("100.64.0.2 laptop-b.home.rift\n"))
        names.joined(Self.peer(2, "laptop-b2"))
        var text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("100.64.0.2 laptop-b2.home.rift\n") && !text.contains("laptop-b.home.rift"))
        names.left(Self.peer(2, nil).publicKey)
        text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("laptop-b2") && text.contains("100.64.0.1 me.home.rift"))
        #expect(names.status == AgentStatus.Names(domain: "home.rift", registration: .hosts, hostsFile: path))
        names.removeAll()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "127.0.0.1 localhost\n")
    }

    @Test("hosts strategy: a file it cannot write is reported in status, and the agent runs on")
    func hostsFailure() {
        let names = HostNameRegistration.make(mode: .hosts, interface: "rg0", hostsFile: "/proc/riftgate-no-such-dir/hosts", logger: logger)
        names.welcome(Self.welcome(peers: []))
        #expect(names.status.lastError?.contains("/proc/riftgate-no-such-dir/hosts") == true)
        #expect(HostNameRegistration.make(mode: .off, interface: "rg0", hostsFile: "/x", logger: logger).status.registration == .off)
    }

    @Test("auto picks systemd-resolved only when it runs, serves this host's lookups and resolvectl answers")
    func probe() throws {
        let directory = NSTemporaryDirectory() + "riftgate-probe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/resolve", withIntermediateDirectories: true)
        var probe = ResolvedProbe(runtimeDirectory: directory + "/resolve", resolvConf: directory + "/resolv.conf",
                                  nsswitch: directory + "/nsswitch.conf")
        let runner = RecordingRunner()
        try "# managed by resolved\nnameserver 127.0.0.53\noptions edns0\n".write(toFile: probe.resolvConf, atomically: false, encoding: .utf8)
        try "hosts: files dns\n".write(toFile: probe.nsswitch, atomically: false, encoding: .utf8)
        #expect(probe.reasonUnusable(run: runner.run) == nil)
        #expect(runner.take() == [["resolvectl", "status"]])
        let auto = HostNameRegistration.make(mode: .auto, interface: "rg0", hostsFile: "/x", logger: logger, probe: probe, run: runner.run)
        #expect(auto.status.registration == .resolved)

        runner.failing.withLock { $0 = ["status"] }
        #expect(probe.reasonUnusable(run: runner.run)?.contains("resolvectl does not answer") == true)
        runner.failing.withLock { $0 = [] }

        try "nameserver 192.168.1.1\n# nameserver 127.0.0.53\n".write(toFile: probe.resolvConf, atomically: false, encoding: .utf8)
        #expect(probe.reasonUnusable(run: runner.run)?.contains("sends lookups to systemd-resolved") == true)
        try "hosts:  files mymachines resolve [!UNAVAIL=return] dns myhostname\n".write(toFile: probe.nsswitch, atomically: false, encoding: .utf8)
        #expect(probe.reasonUnusable(run: runner.run) == nil, "nss-resolve also sends lookups through resolved")

        probe.runtimeDirectory = directory + "/absent"
        _ = runner.take()
        #expect(probe.reasonUnusable(run: runner.run)?.contains("does not exist") == true)
        #expect(runner.take().isEmpty, "resolvectl is not even run")
        let fallback = HostNameRegistration.make(mode: .auto, interface: "rg0", hostsFile: "/x", logger: logger, probe: probe, run: runner.run)
        #expect(fallback.status == AgentStatus.Names(domain: nil, registration: .hosts, hostsFile: "/x"))
    }

    @Test("names and hosts_file settings: parsed, validated, written back by init only when not the default")
    func configuration() throws {
        let base = "hub = \"wss://h\"\nnetwork = \"home\"\nname = \"a\"\nsecrets_file = \"/s\"\n"
        let defaults = try AgentConfiguration.parse(base, path: "t")
        #expect(defaults.names == .auto && defaults.hostsFile == "/etc/hosts")
        #expect(!defaults.tomlText.contains("names") && !defaults.tomlText.contains("hosts_file"))
        let set = try AgentConfiguration.parse(base + "names = \"hosts\"\nhosts_file = \"/etc/netns/x/hosts\"\n", path: "t")
        #expect(set.names == .hosts && set.hostsFile == "/etc/netns/x/hosts")
        #expect(try AgentConfiguration.parse(set.tomlText, path: "t") == set)
        #expect(throws: AgentError.self) { try AgentConfiguration.parse(base + "names = \"dns\"\n", path: "t") }
        #expect(throws: AgentError.self) { try AgentConfiguration.parse(base + "hosts_file = \"hosts\"\n", path: "t") }
    }

    @Test("status shows the registration in text and JSON")
    func statusRendering() throws {
        var status = AgentStatus.placeholder
        status.names = AgentStatus.Names(domain: "home.rift", registration: .hosts, hostsFile: "/etc/hosts")
        #expect(status.text.contains("  names home.rift via hosts file /etc/hosts"))
        #expect(status.compactText.contains("names home.rift via hosts file /etc/hosts"))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = try #require(JSONSerialization.jsonObject(with: encoder.encode(status)) as? [String: Any])
        let names = try #require(json["names"] as? [String: Any])
        #expect(names["domain"] as? String == "home.rift" && names["registration"] as? String == "hosts")
        #expect(names["hosts_file"] as? String == "/etc/hosts")
        status.names = AgentStatus.Names(domain: "home.rift", registration: .resolved, lastError: "resolvectl dns rg0 100.64.0.1 failed")
        #expect(status.compactText.contains("names home.rift via systemd-resolved (split DNS) — NOT registered: resolvectl dns"))
    }
}
