import Foundation
@testable import RiftAgent
import RiftProtocol
import Testing

@Suite("Subnet routes: CIDR parsing and advertise_routes validation")
struct SubnetRouteCheckTests {
    @Test("canonical IPv4 and IPv6 prefixes parse and print back unchanged")
    func canonical() throws {
        for text in ["192.168.1.0/24", "10.0.0.0/8", "192.168.1.7/32", "fd00:1::/64", "2001:db8::/32", "fd00::1/128"] {
            let route = try #require(SubnetRoute(text))
            #expect(route.description == text)
        }
        #expect(SubnetRoute("fd00:1::/64")?.isIPv6 == true && SubnetRoute("10.0.0.0/8")?.isIPv6 == false)
    }

    @Test("each bad list is refused with a precise message", arguments: [
        (["192.168.1.1/24"], "has host bits set; the network is 192.168.1.0/24"),
        (["fd00:1::1/64"], "has host bits set; the network is fd00:1::/64"),
        (["FD00:1::/64"], "is not written canonically; write fd00:1::/64"),
        (["fd00:1:0:0::/64"], "is not written canonically; write fd00:1::/64"),
        (["192.168.1.0"], "is not a CIDR prefix"),
        (["192.168.1.0/x"], "is not a CIDR prefix"),
        (["laptop/24"], "is not a CIDR prefix"),
        (["10.0.0.0/33"], "an IPv4 prefix length is at most 32"),
        (["0.0.0.0/0"], "is a default route"),
        (["::/0"], "is a default route"),
        (["10.0.0.0/7"], "IPv4 routes must be /8 to /32"),
        (["fd00::/15"], "IPv6 routes must be /16 to /128"),
        (["10.1.0.0/16", "10.1.0.0/16"], "\"10.1.0.0/16\" is listed twice"),
        ((0...16).map { "10.\($0).0.0/16" }, "at most 16 routes may be advertised, got 17"),
    ])
    func refused(texts: [String], message: String) {
        do {
            _ = try SubnetRoute.validated(texts, setting: "--advertise-routes")
            Issue.record("accepted \(texts)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect("\(error)".contains("--advertise-routes"))
        }
    }

    @Test("16 distinct routes of both families are accepted, in the order given")
    func sixteen() throws {
        let texts = (0..<15).map { "10.\($0).0.0/16" } + ["fd00:1::/64"]
        let routes = try SubnetRoute.validated(texts, setting: "x")
        #expect(routes.map(\.description) == texts)
    }

    @Test("overlap and cover, IPv4 and IPv6; families never overlap")
    func overlap() {
        let lan = SubnetRoute("192.168.0.0/16")!, sub = SubnetRoute("192.168.1.0/24")!, other = SubnetRoute("192.169.0.0/16")!
        #expect(lan.overlaps(sub) && sub.overlaps(lan) && lan.covers(sub) && !sub.covers(lan))
        #expect(!lan.overlaps(other))
        let v6 = SubnetRoute("fd00:1::/64")!, v6wide = SubnetRoute("fd00::/16")!, v6other = SubnetRoute("fd01::/16")!
        #expect(v6.overlaps(v6wide) && v6wide.covers(v6) && !v6.overlaps(v6other))
        #expect(!SubnetRoute("10.0.0.0/8")!.overlaps(v6wide))
    }

    @Test("the configuration file reads advertise_routes, accept_routes and masquerade and writes them back")
    func configuration() throws {
        let base = "hub = \"wss://h\"\nnetwork = \"home\"\nsecrets_file = \"/s\"\nname = \"b\"\n"
        let defaults = try AgentConfiguration.parse(base, path: "r.toml")
        #expect(defaults.advertiseRoutes.isEmpty && !defaults.acceptRoutes && defaults.masquerade)
        let text = base + "advertise_routes = [\"192.168.1.0/24\", \"fd00:1::/64\"]\naccept_routes = true\nmasquerade = false\n"
        let loaded = try AgentConfiguration.parse(text, path: "r.toml")
        #expect(loaded.advertiseRoutes.map(\.description) == ["192.168.1.0/24", "fd00:1::/64"])
        #expect(loaded.acceptRoutes && !loaded.masquerade)
        #expect(try AgentConfiguration.parse(loaded.tomlText, path: "again.toml") == loaded)
        for (bad, message) in [("advertise_routes = \"192.168.1.0/24\"", "advertise_routes must be a list of CIDR strings"),
                               ("advertise_routes = [24]", "advertise_routes must be a list of CIDR strings"),
                               ("advertise_routes = [\"192.168.1.0/16\"]", "r.toml: advertise_routes: \"192.168.1.0/16\" has host bits set"),
                               ("accept_routes = \"yes\"", "accept_routes must be true or false"),
                               ("masquerade = 1", "masquerade must be true or false")] {
            #expect(throws: AgentError.self) { try AgentConfiguration.parse(base + bad + "\n", path: "r.toml") }
            do { _ = try AgentConfiguration.parse(base + bad + "\n", path: "r.toml") } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test("a netmask gives the interface's network")
    func localNetwork() {
        #expect(LocalAddresses.network(address: "192.168.1.23", mask: "255.255.255.0") == SubnetRoute("192.168.1.0/24"))
        #expect(LocalAddresses.network(address: "fd00:1::5", mask: "ffff:ffff:ffff:ffff::") == SubnetRoute("fd00:1::/64"))
        #expect(LocalAddresses.network(address: "x", mask: "255.0.0.0") == nil)
    }
}
