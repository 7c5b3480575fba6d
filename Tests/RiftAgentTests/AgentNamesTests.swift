import Foundation
import Logging
@testable import RiftAgent
import RiftCrypto
import RiftDNS
import RiftProtocol
import RiftSupport
import RiftTestSupport
import Testing

/// The agent's resolver follows the hub: served after a welcome with a domain, updated on joins, renames and leaves,
/// stopped at shutdown; nothing for an older hub or with `dns = false`.
@Suite struct AgentNamesTests {
    /// Records what the core asks of the resolver.
    final class RecordingNames: PeerNameService, @unchecked Sendable {  // only touched on the test's thread
        var served: [(zone: DNSZone, addresses: [String])] = []
        var updates: [DNSZone] = []
        var stops = 0
        func serve(_ zone: DNSZone, on addresses: [String]) { served.append((zone, addresses)) }
        func update(_ zone: DNSZone) { updates.append(zone) }
        func stop() { stops += 1 }
        var listening: [String] { served.isEmpty || stops > 0 ? [] : ["100.64.0.1:53", "[fd7a:115c:a1e0::1]:53"] }
    }

    /// A hub session the test drives by hand.
    final class ScriptedTransport: SignalingTransport, @unchecked Sendable {  // deliver set once by start
        var deliver: (@Sendable (SignalingEvent) -> Void)?
        func start(deliver: @escaping @Sendable (SignalingEvent) -> Void) { self.deliver = deliver }
        func send(_ payload: SignalPayload) {}
        func stop() {}
    }

    static let me = try! PrivateKey(base64: Data(repeating: 1, count: 32).base64EncodedString())
    static let other = try! PublicKey(bytes: Array(repeating: 9, count: 32))

    static func peer(_ key: PublicKey, _ label: String?, _ last: UInt8) -> PeerInfo {
        PeerInfo(publicKey: key, name: label ?? "old", ipv4: IPv4Address("100.64.0.\(last)")!,
                 ipv6: IPv6Address("fd7a:115c:a1e0::\(last)")!, dnsName: label)
    }

    static func welcome(domain: String?) -> Welcome {
        Welcome(version: domain == nil ? 2 : 3, network: "lab", me: peer(me.publicKey, domain == nil ? nil : "laptop-a", 1),
                ipv4Prefix: IPv4Prefix("100.64.0.0/10")!, ipv6Prefix: IPv6Prefix("fd7a:115c:a1e0::/48")!,
                peers: [peer(other, domain == nil ? nil : "laptop-b", 2)], ice: ICEServers(), heartbeatSeconds: 20, dnsDomain: domain)
    }

    func makeCore(dns: Bool = true) -> (AgentCore, ScriptedTransport, RecordingNames) {
        let clock = ManualClock()
        let wireguard = FakeWireGuardNetwork(clock: clock)
        let transport = ScriptedTransport()
        let names = RecordingNames()
        let key = Self.me.publicKey
        let environment = AgentEnvironment(
            transport: transport, ice: FakeICENetwork().factory(host: "192.0.2.1"),
            openDevice: { settings in wireguard.open(key: key, host: "192.0.2.1", configuration: settings) },
            forwarder: FakeForwarder(), clock: clock, localAddresses: { _, _ in ["192.0.2.1"] }, names: names)
        var configuration = AgentConfiguration(hub: "wss://hub.test", network: "lab", name: "a", secretsFile: "/nonexistent",
                                               controlSocket: "/nonexistent")
        configuration.dns = dns
        let core = AgentCore(configuration: configuration, secrets: AgentSecrets(privateKey: Self.me, token: BearerToken.generate()),
                             environment: environment, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        core.start()
        return (core, transport, names)
    }

    @Test func theResolverFollowsWelcomeJoinsRenamesAndLeaves() throws {
        let (core, transport, names) = makeCore()
        let deliver = try #require(transport.deliver)
        deliver(.welcome(Self.welcome(domain: "lab.rift")))
        core.runReady()
        let served = try #require(names.served.first)
        #expect(served.addresses == ["100.64.0.1", "fd7a:115c:a1e0::1"])
        #expect(served.zone.domain == "lab.rift")
        #expect(Set(served.zone.hosts.map(\.label)) == ["laptop-a", "laptop-b"])
        #expect(served.zone.answer(DNSQuestion(name: "laptop-b.lab.rift", type: .a)).answers.map(\.data) == [.a("100.64.0.2")])
        #expect(core.status.dns == AgentStatus.DNS(domain: "lab.rift", resolver: "100.64.0.1:53",
                                                   resolvers: ["100.64.0.1:53", "[fd7a:115c:a1e0::1]:53"]))
        #expect(core.status.text.contains("  resolver for *.lab.rift: 100.64.0.1:53 [fd7a:115c:a1e0::1]:53"), "\(core.status.text)")

        deliver(.peerJoined(Self.peer(Self.other, "laptop-c", 2)))  // the same key with a new label: a rename
        core.runReady()
        let renamed = try #require(names.updates.last)
        #expect(Set(renamed.hosts.map(\.label)) == ["laptop-a", "laptop-c"])
        #expect(renamed.answer(DNSQuestion(name: "2.0.64.100.in-addr.arpa", type: .ptr)).answers.map(\.data) == [.ptr("laptop-c.lab.rift")])

        deliver(.peerLeft(PeerLeft(publicKey: Self.other, reason: "gone")))
        core.runReady()
        #expect(names.updates.last?.hosts.map(\.label) == ["laptop-a"])

        core.shutdown()
        #expect(names.stops >= 1)
    }

    @Test func noResolverForAnOlderHubOrWhenTurnedOff() throws {
        let (old, oldTransport, oldNames) = makeCore()
        let deliverOld = try #require(oldTransport.deliver)
        deliverOld(.welcome(Self.welcome(domain: nil)))
        old.runReady()
        #expect(oldNames.served.isEmpty && old.status.dns == nil)
        old.shutdown()

        let (off, offTransport, offNames) = makeCore(dns: false)
        let deliverOff = try #require(offTransport.deliver)
        deliverOff(.welcome(Self.welcome(domain: "lab.rift")))
        deliverOff(.peerJoined(Self.peer(Self.other, "laptop-c", 2)))
        off.runReady()
        #expect(offNames.served.isEmpty && offNames.updates.isEmpty && off.status.dns == nil)
        off.shutdown()
    }
}

/// The real resolver effect, on 127.0.0.1 (ephemeral ports: no privilege needed).
@Suite struct PeerNameResolverTests {
    static let zone = DNSZone(domain: "lab.rift", hosts: [DNSHost(label: "laptop-b", ipv4: "100.64.0.2", ipv6: nil)])
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func servesFallsBackToIPv4AndReportsATakenPort() throws {
        let resolver = PeerNameResolver(port: 0, logger: Self.quiet)
        // The second address cannot be bound: the resolver keeps the first rather than giving up.
        resolver.serve(Self.zone, on: ["127.0.0.1", "not-an-address"])
        let listening = resolver.listening
        #expect(listening.count == 1 && listening[0].hasPrefix("127.0.0.1:"), "\(listening)")
        resolver.serve(Self.zone, on: ["127.0.0.1", "not-an-address"])
        #expect(resolver.listening == listening, "the same addresses: the zone is replaced, the sockets kept")

        let port = try #require(listening.first?.split(separator: ":").last.flatMap { UInt16($0) })
        let second = PeerNameResolver(port: port, logger: Self.quiet)
        second.serve(Self.zone, on: ["127.0.0.1"])
        #expect(second.listening.isEmpty, "a taken port: a warning, no resolver, no crash")
        second.update(Self.zone)
        second.stop()

        resolver.stop()
        resolver.stop()
        #expect(resolver.listening.isEmpty)
    }
}
