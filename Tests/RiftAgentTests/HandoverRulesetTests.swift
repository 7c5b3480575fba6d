import RiftAgent
import RiftProtocol
import Testing

@Suite("Port hand-over: the pair it takes, and its nftables ruleset")
struct HandoverRulesetTests {
    private let peerA = try! PublicKey(bytes: [UInt8](repeating: 2, count: 32))
    private let peerB = try! PublicKey(bytes: [UInt8](repeating: 3, count: 32))

    private func endpoint(_ kind: CandidateKind, _ address: String, _ port: UInt16, base: (String, UInt16)? = nil) -> CandidateEndpoint {
        CandidateEndpoint(kind: kind, address: address, port: port, base: base.map { TransportAddress(address: $0.0, port: $0.1) })
    }

    @Test("a server-reflexive pair is handed over from the local candidate's base to the remote candidate")
    func reflexivePair() throws {
        let local = endpoint(.serverReflexive, "198.51.100.7", 61_000, base: ("10.0.1.2", 45_123))
        let remote = endpoint(.peerReflexive, "203.0.113.9", 62_000)
        let handover = try #require(PortHandover(local: local, remote: remote, localIsHost: false, remoteIsHost: false))
        #expect(handover.local == TransportAddress(address: "10.0.1.2", port: 45_123))
        #expect(handover.remote == TransportAddress(address: "203.0.113.9", port: 62_000))
        // A local host end against a reflexive remote is its own base.
        let fromHost = PortHandover(local: endpoint(.host, "10.0.1.2", 45_123), remote: remote, localIsHost: true, remoteIsHost: false)
        #expect(fromHost?.local == TransportAddress(address: "10.0.1.2", port: 45_123))
    }

    @Test("a pair whose remote end is the peer's TURN relay is handed over to the relayed address; our own relay is not")
    func remoteRelay() throws {
        let relay = endpoint(.relayed, "192.0.2.254", 50_001)
        let prflx = endpoint(.peerReflexive, "198.51.100.7", 61_000, base: ("10.0.1.2", 45_123))
        let handover = try #require(PortHandover(local: prflx, remote: relay, localIsHost: false, remoteIsHost: false))
        #expect(handover == PortHandover(local: TransportAddress(address: "10.0.1.2", port: 45_123),
                                         remote: TransportAddress(address: "192.0.2.254", port: 50_001)))
        let fromHost = PortHandover(local: endpoint(.host, "10.0.1.2", 45_123), remote: relay, localIsHost: true, remoteIsHost: false)
        #expect(fromHost?.remote == TransportAddress(address: "192.0.2.254", port: 50_001))
        // The peer's side of the same pair: its local end is the relay, which only the agent can speak (TURN framing).
        #expect(PortHandover(local: endpoint(.relayed, "192.0.2.254", 50_001, base: ("10.0.2.2", 46_000)),
                             remote: endpoint(.peerReflexive, "198.51.100.7", 61_000), localIsHost: false, remoteIsHost: false) == nil)
        #expect(PortHandover(local: endpoint(.relayed, "192.0.2.254", 50_000, base: ("10.0.1.2", 45_123)),
                             remote: relay, localIsHost: false, remoteIsHost: false) == nil, "relay to relay")
    }

    @Test("a local relay, host-to-host pairs, an unknown base and mixed address families get no hand-over")
    func notHandedOver() {
        let srflx = endpoint(.serverReflexive, "198.51.100.7", 61_000, base: ("10.0.1.2", 45_123))
        #expect(PortHandover(local: endpoint(.relayed, "192.0.2.254", 50_000, base: ("10.0.1.2", 45_123)),
                             remote: endpoint(.serverReflexive, "203.0.113.9", 1), localIsHost: false, remoteIsHost: false) == nil)
        #expect(PortHandover(local: endpoint(.host, "10.0.1.2", 1), remote: endpoint(.host, "10.0.1.3", 2), localIsHost: true, remoteIsHost: true) == nil)
        #expect(PortHandover(local: endpoint(.serverReflexive, "198.51.100.7", 61_000), remote: endpoint(.host, "203.0.113.9", 2),
                             localIsHost: false, remoteIsHost: true) == nil, "no base, no hand-over")
        #expect(PortHandover(local: srflx, remote: endpoint(.serverReflexive, "2001:db8::9", 2), localIsHost: false, remoteIsHost: false) == nil)
    }

    @Test("the ruleset rewrites WireGuard's source port before conntrack and hands non-STUN datagrams to WireGuard after it")
    func script() {
        var rules = HandoverRuleset(interface: "rg-test0", wireGuardPort: 51_820)
        #expect(rules.tableName == "riftgate_handover_rg_test0")
        #expect(rules.script == "table inet riftgate_handover_rg_test0\ndelete table inet riftgate_handover_rg_test0\n")
        let changed = rules.set(PortHandover(local: TransportAddress(address: "10.0.1.2", port: 45_123),
                                             remote: TransportAddress(address: "203.0.113.9", port: 62_000)), for: peerA)
        #expect(changed)
        rules.set(PortHandover(local: TransportAddress(address: "fd00::2", port: 45_200),
                               remote: TransportAddress(address: "2001:db8::9", port: 62_001)), for: peerB)
        let expected = """
            table inet riftgate_handover_rg_test0
            delete table inet riftgate_handover_rg_test0
            table inet riftgate_handover_rg_test0 {
              chain output {
                type filter hook output priority raw; policy accept;
                ip saddr 10.0.1.2 ip daddr 203.0.113.9 udp sport 51820 udp dport 62000 udp sport set 45123
                ip6 saddr fd00::2 ip6 daddr 2001:db8::9 udp sport 51820 udp dport 62001 udp sport set 45200
              }
              chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                ip saddr 203.0.113.9 ip daddr 10.0.1.2 udp sport 62000 udp dport 45123 @th,72,24 0 @th,96,32 != 0x2112a442 udp dport set 51820
                ip6 saddr 2001:db8::9 ip6 daddr fd00::2 udp sport 62001 udp dport 45200 @th,72,24 0 @th,96,32 != 0x2112a442 udp dport set 51820
              }
            }

            """
        #expect(rules.script == expected)
        let unchanged = rules.set(rules.handovers[peerA], for: peerA)
        #expect(!unchanged)
        rules.set(nil, for: peerA)
        rules.set(nil, for: peerB)
        #expect(rules.script == "table inet riftgate_handover_rg_test0\ndelete table inet riftgate_handover_rg_test0\n")
    }
}
