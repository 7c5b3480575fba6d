import RiftProtocol
internal import RiftSupport

/// A kernel WireGuard interface (`ip link add … type wireguard`), configured with `wg set` and read
/// with `wg show <name> dump`. The device owns the interface: `shutdown()` (or `deinit`) deletes it.
/// Unlike wireguard-go, a kernel interface outlives this process if it dies without shutting down;
/// it carries the alias `NetworkLink.ownerAlias`, so the next agent removes it (`removeLeftoverWireGuardInterface`)
/// where `openWireGuardDevice` alone would report `.interfaceExists`.
final class KernelWireGuardDevice: WireGuardDevice {
    let interfaceName: String
    let listenPort: UInt16
    var backend: WireGuardBackend { .kernel }
    private let link: NetworkLink
    private let isShutDown = Locked(false)
    /// What `setPeer` last set, so an unchanged list is not replaced (a moment without allowed IPs drops packets);
    /// `wg` can only replace, so a list that grows is replaced too.
    private let allowedIPsSet = PeerAllowedIPsRecord()

    private init(link: NetworkLink, listenPort: UInt16) {
        self.interfaceName = link.name
        self.link = link
        self.listenPort = listenPort
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
            let status = try readStatus(link)
            return KernelWireGuardDevice(link: link, listenPort: status.listenPort)
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
                try Self.runTool(link, WireGuardTool.setPeer(link.name, peer, allowedIPs: change.wholeList), "set peer \(peer.publicKey)")
            }
        }
    }

    func removePeer(_ publicKey: PublicKey) throws(WireGuardError) {
        allowedIPsSet.forget(publicKey)
        try whileOpen { () throws(WireGuardError) in
            try Self.runTool(link, WireGuardTool.removePeer(link.name, publicKey), "remove peer \(publicKey)")
        }
    }

    /// One netlink request (or, in another namespace or when netlink fails, one `wg` run) naming the peer twice:
    /// interval off, then on; the kernel sends a keepalive when a set turns the interval from 0 to non-zero.
    func sendKeepalive(to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        try whileOpen { () throws(WireGuardError) in
            if link.netns == nil,
               (try? KernelWireGuardNetlink.sendKeepalive(on: link.name, to: publicKey, interval: interval)) != nil {
                return
            }
            try Self.runTool(link, WireGuardTool.sendKeepalive(link.name, publicKey, interval: interval),
                             "keepalive to \(publicKey)")
        }
    }

    func status() throws(WireGuardError) -> WireGuardDeviceStatus {
        try whileOpen { () throws(WireGuardError) in try Self.readStatus(link) }
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

    /// Reads the status over netlink in our own namespace (no process spawned); in another namespace, or when netlink
    /// fails, with `wg show dump`.
    private static func readStatus(_ link: NetworkLink) throws(WireGuardError) -> WireGuardDeviceStatus {
        if link.netns == nil, let status = try? KernelWireGuardNetlink.status(of: link.name) { return status }
        return try readDump(link)
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
