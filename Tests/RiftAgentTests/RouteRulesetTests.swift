@testable import RiftAgent
import RiftProtocol
import Testing

@Suite("Subnet routes: the advertising side's nftables table and sysctls")
struct RouteRulesetTests {
    typealias F = RouteFixtures

    @Test("IPv4 and IPv6 routes with masquerade (golden)")
    func masquerade() {
        let rules = RouteRuleset(interface: "rg0", advertised: F.routes("fd00:1::/64", "192.168.1.0/24", "10.5.0.0/16"),
                                 masquerade: true, overlayIPv4: F.overlay4, overlayIPv6: F.overlay6)
        #expect(rules.tableName == "riftgate_routes_rg0")
        #expect(rules.sysctls == ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"])
        #expect(rules.script == """
            table inet riftgate_routes_rg0
            delete table inet riftgate_routes_rg0
            table inet riftgate_routes_rg0 {
              chain forward {
                type filter hook forward priority filter; policy accept;
                oifname "rg0" ct state established,related accept
                iifname "rg0" ip daddr { 10.5.0.0/16, 192.168.1.0/24 } accept
                iifname "rg0" ip6 daddr { fd00:1::/64 } accept
                iifname "rg0" drop
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname != "rg0" ip saddr 100.64.0.0/10 ip daddr { 10.5.0.0/16, 192.168.1.0/24 } masquerade
                oifname != "rg0" ip6 saddr fd7a:115c:a1e0::/64 ip6 daddr { fd00:1::/64 } masquerade
              }
            }

            """)
    }

    @Test("IPv4 only without masquerade: no nat chain, IPv4 forwarding only (golden)")
    func noMasquerade() {
        let rules = RouteRuleset(interface: "rg-x.1", advertised: F.routes("192.168.1.0/24"), masquerade: false,
                                 overlayIPv4: F.overlay4, overlayIPv6: F.overlay6)
        #expect(rules.sysctls == ["net.ipv4.ip_forward"])
        #expect(rules.script == """
            table inet riftgate_routes_rg_x_1
            delete table inet riftgate_routes_rg_x_1
            table inet riftgate_routes_rg_x_1 {
              chain forward {
                type filter hook forward priority filter; policy accept;
                oifname "rg-x.1" ct state established,related accept
                iifname "rg-x.1" ip daddr { 192.168.1.0/24 } accept
                iifname "rg-x.1" drop
              }
            }

            """)
    }

    @Test("nothing advertised: the script only removes the table, no sysctl")
    func nothing() {
        let rules = RouteRuleset(interface: "rg0", advertised: [], masquerade: true)
        #expect(rules.sysctls.isEmpty)
        #expect(rules.script == "table inet riftgate_routes_rg0\ndelete table inet riftgate_routes_rg0\n")
    }
}
