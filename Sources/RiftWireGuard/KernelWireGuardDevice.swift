import RiftProtocol
internal import RiftSupport

/// A kernel WireGuard interface (`ip link add … type wireguard`). Its peers are set and its status read over generic
/// netlink (`KernelWireGuardNetlink`) in the agent's own network namespace; `wg set` / `wg show <name> dump` are the
/// fallback (another namespace, or netlink refused), and set the private key and port at creation. The device owns the
/// interface: `shutdown()` (or `deinit`) deletes it.
/// Unlike wireguard-go, a kernel interface outlives this process if it dies without shutting down;
/// it carries the alias `NetworkLink.ownerAlias`, so the next agent removes it (`openWireGuardDevice(…, removingLeftover:)`)
/// where `openWireGuardDevice` alone would report `.interfaceExists`.
final class KernelWireGuardDevice: WireGuardDevice {
    let interfaceName: String
    let listenPort: UInt16
    var backend: WireGuardBackend { .kernel }
    private let link: NetworkLink
    private let isShutDown = Locked(false)
    /// What `setPeer` last set, so an unchanged list is not replaced (a moment without allowed IPs drops packets)
    /// and one that grows is added to over netlink (`wg` can only replace).
    private let allowedIPsSet = PeerAllowedIPsRecord()
    /// Whether netlink serves this device: true in our own namespace until a netlink call failed where `wg` then
    /// succeeded (netlink refused us for good, say by a security module), so a broken netlink is tried only once.
    private let netlinkServes: Locked<Bool>

    private init(link: NetworkLink, listenPort: UInt16) {
        self.interfaceName = link.name
        self.link = link
        self.listenPort = listenPort
        self.netlinkServes = Locked(link.netns == nil)
    }

    deinit { shutdown() }

    /// Creates and configures the interface and reads back the port. Fails with `.notInstalled` when
    /// the kernel has no WireGuard or `wg` is missing (so detection can fall back to wireguard-go);
    /// on a later failure the interface is deleted again.
    static func open(_ configuration: ValidatedConfiguration, link: NetworkLink) throws(WireGuardError) -> KernelWireGuardDevice {
        guard Subprocess.executablePath(named: "wg") != nil else {
            throw WireGuardError(.notInstalled, "wg is not installed (apt-get install wireguard-tools)")
        }
        try link.addKernelWireGuard()
        do {
            let key = Array((Base64.encode(configuration.privateKey) + "\n").utf8)
            try runTool(link, WireGuardTool.setDevice(link.name, listenPort: configuration.configuration.listenPort,
                                                           fwmark: configuration.configuration.fwmark),
                        input: key, "configure \(link.name)")
            try link.configure(configuration)
            if link.netns == nil, let status = try? KernelWireGuardNetlink.status(of: link.name) {
                return KernelWireGuardDevice(link: link, listenPort: status.listenPort)
            }
            return KernelWireGuardDevice(link: link, listenPort: try readDump(link).listenPort)
        } catch {
            link.delete()
            throw error
        }
    }

    func setPeer(_ peer: WireGuardPeer) throws(WireGuardError) {
        let allowedIPs = try AllowedIPs.canonical(peer.allowedIPs, allowDefault: peer.isExitNode)
        if peer.endpoint?.port == 0 { throw WireGuardError(.invalidConfiguration, "peer endpoint port 0") }
        try allowedIPsSet.update(peer.publicKey, to: allowedIPs) { change throws(WireGuardError) in
            try whileOpen { () throws(WireGuardError) in
                try netlinkOrTool { () throws(WireGuardError) in
                    try KernelWireGuardNetlink.setPeer(on: link.name, peer, allowedIPs: change)
                } tool: { () throws(WireGuardError) in
                    try Self.runTool(link, WireGuardTool.setPeer(link.name, peer, allowedIPs: change.wholeList),
                                     "set peer \(peer.publicKey)")
                }
            }
        }
    }

    func removePeer(_ publicKey: PublicKey) throws(WireGuardError) {
        allowedIPsSet.forget(publicKey)
        try whileOpen { () throws(WireGuardError) in
            try netlinkOrTool { () throws(WireGuardError) in
                try KernelWireGuardNetlink.removePeer(on: link.name, publicKey)
            } tool: { () throws(WireGuardError) in
                try Self.runTool(link, WireGuardTool.removePeer(link.name, publicKey), "remove peer \(publicKey)")
            }
        }
    }

    /// One netlink request (or one `wg` run) naming the peer twice: interval off, then on; the kernel sends a keepalive
    /// when a set turns the interval from 0 to non-zero.
    func sendKeepalive(to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        try whileOpen { () throws(WireGuardError) in
            try netlinkOrTool { () throws(WireGuardError) in
                try KernelWireGuardNetlink.sendKeepalive(on: link.name, to: publicKey, interval: interval)
            } tool: { () throws(WireGuardError) in
                try Self.runTool(link, WireGuardTool.sendKeepalive(link.name, publicKey, interval: interval),
                                 "keepalive to \(publicKey)")
            }
        }
    }

    func status() throws(WireGuardError) -> WireGuardDeviceStatus {
        try whileOpen { () throws(WireGuardError) in
            try netlinkOrTool { () throws(WireGuardError) in
                try KernelWireGuardNetlink.status(of: link.name)
            } tool: { () throws(WireGuardError) in
                try Self.readDump(link)
            }
        }
    }

    func shutdown() {
        isShutDown.withLock { isShutDown in
            guard !isShutDown else { return }
            isShutDown = true
            link.delete()
        }
    }

    private func whileOpen<Result: Sendable>(_ body: () throws(WireGuardError) -> Result) throws(WireGuardError) -> Result {
        try isShutDown.withLock { (isShutDown: inout Bool) throws(WireGuardError) -> Result in
            guard !isShutDown else { throw WireGuardError(.shutDown, "WireGuard device \(interfaceName) has been shut down") }
            return try body()
        }
    }

    /// Runs `netlink` while netlink serves this device, and `tool` (a `wg` run) otherwise or when `netlink` failed. A
    /// failure of both is the device's (no such peer, a bad value) and `tool`'s error is thrown; a failure of netlink
    /// alone means netlink does not serve us, and it is not tried again for this device.
    private func netlinkOrTool<Result>(_ netlink: () throws(WireGuardError) -> Result,
                                       tool: () throws(WireGuardError) -> Result) throws(WireGuardError) -> Result {
        if netlinkServes.withLock({ $0 }), let result = try? netlink() { return result }
        let result = try tool()
        netlinkServes.withLock { $0 = false }
        return result
    }

    /// Reads `wg show dump`; its output holds the private key, so the buffer is wiped after parsing.
    static func readDump(_ link: NetworkLink) throws(WireGuardError) -> WireGuardDeviceStatus {
        var output: SubprocessOutput
        do {
            output = try NetworkLink.run(link.inNamespace(WireGuardTool.dump(link.name)))
        } catch {
            throw WireGuardError.command(error, "read the status of \(link.name)")
        }
        defer { for index in output.standardOutput.indices { output.standardOutput[index] = 0 } }
        return try WireGuardTool.parseDump(output.standardOutput)
    }

    private static func runTool(_ link: NetworkLink, _ command: [String], input: [UInt8] = [], _ action: String) throws(WireGuardError) {
        do {
            _ = try NetworkLink.run(link.inNamespace(command), input: input)
        } catch {
            throw WireGuardError.command(error, action)
        }
    }
}
