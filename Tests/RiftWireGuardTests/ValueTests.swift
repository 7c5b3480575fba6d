import RiftProtocol
import RiftSupport
import Testing
@testable import RiftWireGuard

@Suite("Checking and encoding configuration")
struct ValueTests {
    static let key = try! PublicKey(base64: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=")
    static let privateKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

    static func configuration(name: String = "riftgate0", key: String = privateKey, mtu: Int = 1380,
                              netns: String? = nil) -> InterfaceConfiguration {
        InterfaceConfiguration(name: name, privateKeyBase64: key, ipv4: IPv4Address("100.64.0.2")!, ipv4PrefixLength: 10,
                               ipv6: IPv6Address("fd7a:115c:a1e0::2")!, ipv6PrefixLength: 48, mtu: mtu, netns: netns)
    }

    @Test("endpoints parse and print in the form WireGuard uses")
    func endpoints() throws {
        #expect(WireGuardEndpoint("1.2.3.4:51820")?.description == "1.2.3.4:51820")
        #expect(WireGuardEndpoint("[2001:DB8:0::1]:51820")?.description == "[2001:db8::1]:51820")
        #expect(WireGuardEndpoint(host: .ipv6(IPv6Address("::1")!), port: 7).description == "[::1]:7")
        for bad in ["1.2.3.4", "1.2.3.4:0", "1.2.3.4:70000", "::1:51820", "[fe80::1%eth0]:1", "host:1"] {
            #expect(WireGuardEndpoint(bad) == nil, "\(bad)")
        }
    }

    @Test("allowed IPs are canonicalised; default routes, host bits and injected lines are refused")
    func allowedIPs() throws {
        #expect(try AllowedIPs.canonical(["100.64.0.3/32", "fd7a:115c:a1e0:0:0::3/128", "100.64.0.3/32"])
                == ["100.64.0.3/32", "fd7a:115c:a1e0::3/128"])
        for bad in ["0.0.0.0/0", "::/0", "100.64.0.3/24", "100.64.0.3", "fd7a::3/129", "1.2.3.4/32\nprivate_key=00", ""] {
            #expect(throws: WireGuardError.self, "\(bad)") { try AllowedIPs.canonical([bad]) }
        }
    }

    @Test("UAPI and wg requests for a peer replace its allowed IPs and keepalive")
    func peerRequests() {
        let peer = WireGuardPeer(publicKey: Self.key, endpoint: WireGuardEndpoint("192.0.2.2:51820"),
                                 allowedIPs: ["100.64.0.3/32"], persistentKeepalive: 25)
        let lines = UAPIRequest.setPeer(peer, allowedIPs: .replace(["100.64.0.3/32"])).map { "\($0.key)=\($0.text)" }
        #expect(lines == ["public_key=\(Self.key.hex)", "endpoint=192.0.2.2:51820", "persistent_keepalive_interval=25",
                          "replace_allowed_ips=true", "allowed_ip=100.64.0.3/32"])
        let quiet = WireGuardPeer(publicKey: Self.key, allowedIPs: [])
        #expect(UAPIRequest.setPeer(quiet, allowedIPs: .replace([])).map(\.key) == ["public_key", "persistent_keepalive_interval", "replace_allowed_ips"])
        #expect(UAPIRequest.removePeer(Self.key).map { "\($0.key)=\($0.text)" } == ["public_key=\(Self.key.hex)", "remove=true"])
        #expect(WireGuardTool.setPeer("wg0", peer, allowedIPs: ["100.64.0.3/32", "fd7a::3/128"])
                == ["wg", "set", "wg0", "peer", Self.key.base64, "endpoint", "192.0.2.2:51820", "persistent-keepalive", "25",
                    "allowed-ips", "100.64.0.3/32,fd7a::3/128"])
        #expect(WireGuardTool.setPeer("wg0", quiet, allowedIPs: []).suffix(4) == ["persistent-keepalive", "off", "allowed-ips", ""])
    }

    @Test("an update with unchanged allowed IPs leaves them in place: no replace in the UAPI request, no allowed-ips for wg")
    func unchangedAllowedIPs() {
        let peer = WireGuardPeer(publicKey: Self.key, endpoint: WireGuardEndpoint("192.0.2.2:51820"),
                                 allowedIPs: ["100.64.0.3/32"], persistentKeepalive: 25)
        #expect(UAPIRequest.setPeer(peer, allowedIPs: .keep).map { "\($0.key)=\($0.text)" }
                == ["public_key=\(Self.key.hex)", "endpoint=192.0.2.2:51820", "persistent_keepalive_interval=25"])
        #expect(WireGuardTool.setPeer("wg0", peer, allowedIPs: nil)
                == ["wg", "set", "wg0", "peer", Self.key.base64, "endpoint", "192.0.2.2:51820", "persistent-keepalive", "25"])

        let record = PeerAllowedIPsRecord()
        let list = ["100.64.0.3/32", "fd7a::3/128"]
        #expect(record.change(for: Self.key, to: list) == .replace(list), "a peer never set gets its list")
        record.didSet(Self.key, .replace(list))
        #expect(record.change(for: Self.key, to: list) == .keep, "the same list again is left in place")
        #expect(record.change(for: Self.key, to: list.reversed()) == .keep, "the order does not matter")
        #expect(record.change(for: Self.key, to: list + ["10.1.0.0/16"]) == .add(added: ["10.1.0.0/16"], all: list + ["10.1.0.0/16"]),
                "a route added is only added")
        #expect(record.change(for: Self.key, to: [list[0], "10.1.0.0/16"]) == .replace([list[0], "10.1.0.0/16"]),
                "a prefix gone replaces the list")
        record.didSet(Self.key, .keep)
        #expect(record.change(for: Self.key, to: list) == .keep, "an update that left the list keeps the record")
        record.didSet(Self.key, .add(added: ["10.1.0.0/16"], all: list + ["10.1.0.0/16"]))
        #expect(record.change(for: Self.key, to: list + ["10.1.0.0/16"]) == .keep, "an addition is recorded whole")
        record.forget(Self.key)
        #expect(record.change(for: Self.key, to: list) == .replace(list), "a removed (or failed) peer gets its list again")
    }

    @Test("an added route is sent alone over UAPI (no replace); wg, which cannot add, gets the whole list")
    func addedAllowedIPs() {
        let peer = WireGuardPeer(publicKey: Self.key, allowedIPs: ["100.64.0.3/32", "10.1.0.0/16"], persistentKeepalive: 25)
        let change = AllowedIPsChange.add(added: ["10.1.0.0/16"], all: ["100.64.0.3/32", "10.1.0.0/16"])
        #expect(UAPIRequest.setPeer(peer, allowedIPs: change).map { "\($0.key)=\($0.text)" }
                == ["public_key=\(Self.key.hex)", "persistent_keepalive_interval=25", "allowed_ip=10.1.0.0/16"])
        #expect(WireGuardTool.setPeer("wg0", peer, allowedIPs: change.wholeList).suffix(2)
                == ["allowed-ips", "100.64.0.3/32,10.1.0.0/16"])
    }

    @Test("a keepalive on request turns the interval off and on: one UAPI set, one wg run")
    func keepaliveRequests() {
        #expect(UAPIRequest.sendKeepalive(Self.key, interval: 1).map { "\($0.key)=\($0.text)" }
                == ["public_key=\(Self.key.hex)", "update_only=true", "persistent_keepalive_interval=0",
                    "persistent_keepalive_interval=1"])
        #expect(WireGuardTool.sendKeepalive("wg0", Self.key, interval: 1)
                == ["wg", "set", "wg0", "peer", Self.key.base64, "persistent-keepalive", "off",
                    "peer", Self.key.base64, "persistent-keepalive", "1"])
    }

    @Test("the device key line is lowercase hex of the key bytes")
    func deviceRequest() {
        let bytes = Base64.decode(Self.privateKey)!
        let lines = UAPIRequest.device(privateKey: bytes, listenPort: 0)
        #expect(lines[0].key == "private_key" && lines[0].text.count == 64 && lines[0].text == lines[0].text.lowercased())
        #expect(Hex.decode(lines[0].value) == bytes)
        #expect(lines[1].key == "listen_port" && lines[1].text == "0")
        #expect(lines.count == 2, "no fwmark line unless one is set")
        let marked = UAPIRequest.device(privateKey: bytes, listenPort: 51820, fwmark: 0x5267)
        #expect(marked.last.map { "\($0.key)=\($0.text)" } == "fwmark=21095")
        #expect(WireGuardTool.setDevice("wg0", listenPort: 51820) == ["wg", "set", "wg0", "listen-port", "51820", "private-key", "/dev/stdin"])
        #expect(WireGuardTool.setDevice("wg0", listenPort: 51820, fwmark: 0x5267)
                == ["wg", "set", "wg0", "listen-port", "51820", "fwmark", "21095", "private-key", "/dev/stdin"])
    }

    @Test("the default routes are allowed only for the chosen exit node")
    func exitNodeDefaultRoutes() throws {
        #expect(throws: WireGuardError.self) { try AllowedIPs.canonical(["100.64.0.3/32", "0.0.0.0/0"]) }
        #expect(try AllowedIPs.canonical(["100.64.0.3/32", "0.0.0.0/0", "::/0"], allowDefault: true)
                == ["100.64.0.3/32", "0.0.0.0/0", "::/0"])
        #expect(throws: WireGuardError.self) { try AllowedIPs.canonical(["0.0.0.1/0"], allowDefault: true) }
    }

    @Test("the private key never appears in descriptions, debug output or dumps")
    func redaction() {
        let configuration = Self.configuration()
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [configuration.description, String(reflecting: configuration), "\(configuration)", dumped] {
            #expect(!text.contains(Self.privateKey) && !text.contains("yAnz5TF"))
            #expect(text.contains("riftgate0"))
        }
    }

    @Test("bad configurations are refused before anything is created", arguments: [
        configuration(name: "-rf"), configuration(name: "a/b"), configuration(name: "sixteen-chars-xx"), configuration(name: ""),
        configuration(key: "not a key"), configuration(key: "AAAA"), configuration(mtu: 576), configuration(netns: "../etc"),
    ])
    func invalidConfigurations(_ configuration: InterfaceConfiguration) {
        #expect { try openWireGuardDevice(configuration) } throws: { ($0 as? WireGuardError)?.code == .invalidConfiguration }
    }

    @Test("failed commands become errors that say what to do")
    func commandErrors() {
        let denied = WireGuardError.command(
            SubprocessError(.exited(2), command: ["ip", "link", "add"], standardError: "RTNETLINK answers: Operation not permitted\n"),
            "create interface rg0")
        #expect(denied.code == .missingCapability)
        #expect(denied.reason.contains("needs CAP_NET_ADMIN (run as root or grant the capability)"))
        let exists = WireGuardError.command(
            SubprocessError(.exited(2), command: ["ip"], standardError: "RTNETLINK answers: File exists\n"), "create interface rg0")
        #expect(exists.code == .interfaceExists)
        let missing = WireGuardError.command(SubprocessError(.notFound, command: ["ip"]), "look up rg0")
        #expect(missing.code == .notInstalled && missing.reason.contains("iproute2"))
        let other = WireGuardError.command(SubprocessError(.exited(1), command: ["ip"], standardError: "Error: boom\n"), "x")
        #expect(other.code == .commandFailed && other.reason.contains("boom"))
    }

    @Test("wireguard-go's startup messages become errors that say what to do")
    func startupErrors() {
        let eperm = WireGuardStartupFailure.explain(
            output: "ERROR: (rg0) 2026/01/01 00:00:00 Failed to create TUN device: operation not permitted\n", status: .exited(1))
        #expect(eperm.code == .missingCapability && eperm.reason.contains("needs CAP_NET_ADMIN"))
        let eacces = WireGuardStartupFailure.explain(output: "Failed to create TUN device: permission denied", status: .exited(1))
        #expect(eacces.code == .missingCapability && eacces.reason.contains("root"))
        let other = WireGuardStartupFailure.explain(output: "something odd\n", status: .signaled(9))
        #expect(other.code == .processExited && other.reason.contains("something odd") && other.reason.contains("signal 9"))
    }
}
