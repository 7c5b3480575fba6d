public import RiftProtocol

/// How to create and address the WireGuard interface.
///
/// The interface is routed by its address prefixes: `100.64.0.2` with length 10 gives the
/// `100.64.0.0/10` route. Peers get only their own /32 and /128 as allowed IPs, never a default route.
/// `description`, `debugDescription` and the mirror never show the private key.
public struct InterfaceConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The interface name: 1–15 of `A-Z a-z 0-9 - _ .`, not starting with `-` or `.`.
    public var name: String
    /// Our WireGuard private key in base64 (as `wg genkey` prints it). Never logged.
    public var privateKeyBase64: String
    /// The UDP port to listen on; 0 lets WireGuard choose (read the result from `listenPort`).
    public var listenPort: UInt16
    /// Our IPv4 overlay address; must be set (opening fails while it is 0.0.0.0).
    public var ipv4: IPv4Address
    /// The IPv4 overlay prefix length (1–32), which sets the route to the overlay; must be set.
    public var ipv4PrefixLength: Int
    /// Our IPv6 overlay address; must be set (opening fails while it is `::`).
    public var ipv6: IPv6Address
    /// The IPv6 overlay prefix length (1–128), which sets the route to the overlay; must be set.
    public var ipv6PrefixLength: Int
    /// The interface MTU; 1380 leaves room for WireGuard over IPv6 and a TURN relay on a 1500 path.
    public var mtu: Int
    /// A network namespace (`ip netns` name) to create the interface in, or nil for ours. `ip`,
    /// `wg` and `wireguard-go` then run under `ip netns exec`; the UAPI socket stays in our filesystem.
    public var netns: String?
    /// The userspace implementation to run: a program name looked up in `PATH`, or a path.
    public var wireguardGoPath: String
    /// The firewall mark WireGuard puts on its own UDP packets (`fwmark`), so that policy routing can keep them out of
    /// the tunnel when all traffic goes through an exit node; 0 = none.
    public var fwmark: UInt32 = 0

    /// Describes an interface; nothing is checked until `openWireGuardDevice`. The overlay addresses
    /// and prefix lengths may be filled in later, but must be set before opening.
    public init(name: String = "riftgate0", privateKeyBase64: String, listenPort: UInt16 = 0,
                ipv4: IPv4Address = IPv4Address(0), ipv4PrefixLength: Int = 0,
                ipv6: IPv6Address = IPv6Address(bytes: Array(repeating: 0, count: 16)), ipv6PrefixLength: Int = 0,
                mtu: Int = 1380, netns: String? = nil, wireguardGoPath: String = "wireguard-go") {
        self.name = name
        self.privateKeyBase64 = privateKeyBase64
        self.listenPort = listenPort
        self.ipv4 = ipv4
        self.ipv4PrefixLength = ipv4PrefixLength
        self.ipv6 = ipv6
        self.ipv6PrefixLength = ipv6PrefixLength
        self.mtu = mtu
        self.netns = netns
        self.wireguardGoPath = wireguardGoPath
    }

    public var description: String {
        "InterfaceConfiguration(name: \(name), privateKey: <redacted>, listenPort: \(listenPort), "
            + "ipv4: \(ipv4)/\(ipv4PrefixLength), ipv6: \(ipv6)/\(ipv6PrefixLength), mtu: \(mtu)"
            + (netns.map { ", netns: \($0)" } ?? "") + (fwmark == 0 ? "" : ", fwmark: \(fwmark)")
            + ", wireguardGoPath: \(wireguardGoPath))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "privateKey": "<redacted>", "listenPort": listenPort, "ipv4": ipv4,
                                "ipv4PrefixLength": ipv4PrefixLength, "ipv6": ipv6,
                                "ipv6PrefixLength": ipv6PrefixLength, "mtu": mtu, "netns": netns as Any,
                                "wireguardGoPath": wireguardGoPath, "fwmark": fwmark])
    }
}

/// A configuration that passed `validated()`, with the private key decoded.
struct ValidatedConfiguration: Sendable {
    var configuration: InterfaceConfiguration
    /// The 32 private key bytes; kept only until the device is configured.
    var privateKey: [UInt8]

    var name: String { configuration.name }
    var ipv4Interface: String { "\(configuration.ipv4)/\(configuration.ipv4PrefixLength)" }
    var ipv6Interface: String { "\(configuration.ipv6)/\(configuration.ipv6PrefixLength)" }
}

extension InterfaceConfiguration {
    /// Checks every field; fails with `.invalidConfiguration` naming the first bad one.
    func validated() throws(WireGuardError) -> ValidatedConfiguration {
        guard InterfaceName.isValid(name, maximumLength: 15) else {
            throw WireGuardError(.invalidConfiguration,
                                 "interface name \"\(name)\" must be 1-15 of A-Z a-z 0-9 - _ . and not start with - or .")
        }
        if let netns, !InterfaceName.isValid(netns, maximumLength: 64) {
            throw WireGuardError(.invalidConfiguration, "network namespace name \"\(netns)\" is not a plain name")
        }
        guard let key = Base64.decode(privateKeyBase64), key.count == 32 else {
            throw WireGuardError(.invalidConfiguration, "the private key is not 32 bytes of base64")
        }
        guard ipv4.value != 0, ipv6.bytes.contains(where: { $0 != 0 }) else {
            throw WireGuardError(.invalidConfiguration, "the overlay addresses are not set")
        }
        guard (1...32).contains(ipv4PrefixLength), (1...128).contains(ipv6PrefixLength) else {
            throw WireGuardError(.invalidConfiguration, "overlay prefix lengths must be 1-32 (IPv4) and 1-128 (IPv6)")
        }
        guard (1280...65535).contains(mtu) else {
            throw WireGuardError(.invalidConfiguration, "MTU \(mtu) is outside 1280-65535 (IPv6 needs at least 1280)")
        }
        guard !wireguardGoPath.isEmpty, !wireguardGoPath.hasPrefix("-"), !wireguardGoPath.contains("\n") else {
            throw WireGuardError(.invalidConfiguration, "wireguard-go path \"\(wireguardGoPath)\" is not a program name or path")
        }
        return ValidatedConfiguration(configuration: self, privateKey: key)
    }
}

/// Names passed to `ip`, `wg` and used in socket paths.
enum InterfaceName {
    /// Whether `name` is safe as a command argument and path component: it cannot be taken for an
    /// option, contain a separator, or name `.`/`..`.
    static func isValid(_ name: String, maximumLength: Int) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maximumLength).contains(bytes.count), bytes[0] != UInt8(ascii: "-"), bytes[0] != UInt8(ascii: ".") else {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
