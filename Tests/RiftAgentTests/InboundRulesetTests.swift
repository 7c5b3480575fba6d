import RiftAgent
import RiftProtocol
import Testing

@Suite("Inbound filter ruleset (allow_in)")
struct InboundRulesetTests {
    private func peer(_ seed: UInt8, allowIn: [String]?) -> PeerInfo {
        PeerInfo(publicKey: try! PublicKey(bytes: [UInt8](repeating: seed, count: 32)), name: "p\(seed)",
                 ipv4: IPv4Address("100.64.0.\(seed)")!, ipv6: IPv6Address("fd00::\(seed)")!, allowIn: allowIn.map { $0.map { PortRule($0)! } })
    }

    @Test("unrestricted peers produce no rules; the script then only removes the table")
    func unrestricted() {
        var rules = InboundRuleset(interface: "rg-test0")
        let changed1 = rules.replace(with: [peer(2, allowIn: nil)])
        #expect(!changed1)
        #expect(rules.tableName == "riftgate_rg_test0")
        #expect(rules.script == "table inet riftgate_rg_test0\ndelete table inet riftgate_rg_test0\n")
    }

    @Test("a restricted peer: replies pass, listed ports pass per protocol and address family, the rest from it is dropped")
    func restricted() {
        var rules = InboundRuleset(interface: "rg0")
        let changed2 = rules.update(peer(3, allowIn: ["tcp/8080", "udp/53", "tcp/9000-9010"]))
        #expect(changed2)
        let changed3 = rules.update(peer(4, allowIn: []))
        #expect(changed3)
        let script = rules.script
        #expect(script.contains("ct state established,related accept"))
        #expect(script.contains("iifname != \"rg0\" accept"))
        #expect(script.contains("ip saddr 100.64.0.3 tcp dport { 8080, 9000-9010 } accept"))
        #expect(script.contains("ip6 saddr fd00::3 udp dport { 53 } accept"))
        #expect(script.contains("ip saddr 100.64.0.3 drop") && script.contains("ip6 saddr fd00::3 drop"))
        #expect(script.contains("ip saddr 100.64.0.4 drop") && !script.contains("100.64.0.4 tcp"))
        let accept = script.range(of: "100.64.0.3 tcp dport")!.lowerBound, drop = script.range(of: "ip saddr 100.64.0.3 drop")!.lowerBound
        #expect(accept < drop, "accepts come before the peer's drop")
        let changed4 = rules.update(peer(3, allowIn: ["tcp/8080", "udp/53", "tcp/9000-9010"]))
        #expect(!changed4, "the same restriction changes nothing")
        let changed5 = rules.update(peer(3, allowIn: nil))
        #expect(changed5, "lifting a restriction is a change")
        #expect(!rules.script.contains("100.64.0.3"))
        let changed6 = rules.remove(peer(4, allowIn: nil).publicKey)
        #expect(changed6)
        #expect(rules.restrictions.isEmpty)
    }
}
