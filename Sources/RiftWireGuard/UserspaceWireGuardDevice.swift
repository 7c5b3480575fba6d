import Glibc
import RiftProtocol
internal import RiftSupport

/// A WireGuard interface run by `wireguard-go -f`, our child process, configured over its UAPI socket.
///
/// The device owns the process and the interface: `shutdown()` (or `deinit`) deletes the interface,
/// stops the process and removes a socket file it left behind. If this process dies without shutting
/// down, `setpriv --pdeathsig` has the kernel send wireguard-go SIGTERM, on which it removes both.
final class UserspaceWireGuardDevice: WireGuardDevice {
    static let startupTimeout: Duration = .seconds(5)
    /// The size wireguard-go's UDP sockets are raised to, as the agent's forwarding sockets (newer wireguard-go sets
    /// 7 MiB itself, which is kept).
    static let socketBufferBytes: Int32 = 4 << 20
    /// How long `open` waits for wireguard-go to open its UDP sockets after the link came up.
    static let socketOpenTimeout: Duration = .seconds(1)

    let interfaceName: String
    let listenPort: UInt16
    var backend: WireGuardBackend { .userspace }
    private let publicKey: PublicKey?
    private let link: NetworkLink
    private let control: UAPIClient
    private let daemon: SupervisedProcess
    private let isShutDown = Locked(false)
    /// What `setPeer` last set, so an unchanged list is not replaced and a grown one is only added to (a moment
    /// without allowed IPs drops packets).
    private let allowedIPsSet = PeerAllowedIPsRecord()

    private init(listenPort: UInt16, publicKey: PublicKey?, link: NetworkLink, control: UAPIClient, daemon: SupervisedProcess) {
        self.interfaceName = link.name
        self.listenPort = listenPort
        self.publicKey = publicKey
        self.link = link
        self.control = control
        self.daemon = daemon
    }

    deinit { shutdown() }

    /// Starts wireguard-go, waits (bounded) for its UAPI socket, sets the key and port, addresses the
    /// interface and reads back the port. On any failure everything started is torn down again.
    static func open(_ configuration: ValidatedConfiguration, link: NetworkLink) throws(WireGuardError) -> UserspaceWireGuardDevice {
        let program = configuration.configuration.wireguardGoPath
        guard let executable = Subprocess.executablePath(named: program) else {
            throw WireGuardError(.notInstalled, program == "wireguard-go" ? "wireguard-go is not installed (apt-get install wireguard-go)"
                                     : "wireguard-go is not executable at \(program)")
        }
        let control = UAPIClient(interfaceName: configuration.name)
        if control.isServed() {
            throw WireGuardError(.interfaceExists, "a userspace WireGuard device named \(configuration.name) is already running "
                                     + "(\(control.socketPath)), perhaps in another network namespace")
        }
        let daemon: SupervisedProcess
        do {
            daemon = try SupervisedProcess(
                link.inNamespace([executable, "-f", configuration.name]),
                environment: ["LOG_LEVEL": "error", "WG_PROCESS_FOREGROUND": "1"],
                parentDeathSignal: Subprocess.executablePath(named: "setpriv") != nil)
        } catch {
            throw WireGuardError.command(error, "start wireguard-go")
        }
        do throws(WireGuardError) {
            try waitForControlSocket(control, daemon: daemon)
            let port = configuration.configuration.listenPort
            do throws(WireGuardError) {
                try control.set(UAPIRequest.device(privateKey: configuration.privateKey, listenPort: port,
                                                       fwmark: configuration.configuration.fwmark))
            } catch where error.errno == EADDRINUSE {
                throw WireGuardError(.controlFailed, "UDP port \(port) is already in use", errno: EADDRINUSE)
            }
            try link.configure(configuration)
            forceSocketBuffers(of: daemon)
            let status = try UAPIStatus.parse(control.get(), publicKey: nil)
            return UserspaceWireGuardDevice(listenPort: status.listenPort, publicKey: derivePublicKey(configuration.privateKey),
                                            link: link, control: control, daemon: daemon)
        } catch {
            let explained = explain(error, daemon: daemon)
            tearDown(link: link, control: control, daemon: daemon)
            throw explained
        }
    }

    func setPeer(_ peer: WireGuardPeer) throws(WireGuardError) {
        let allowedIPs = try AllowedIPs.canonical(peer.allowedIPs, allowDefault: peer.isExitNode)
        if peer.endpoint?.port == 0 { throw WireGuardError(.invalidConfiguration, "peer endpoint port 0") }
        try allowedIPsSet.update(peer.publicKey, to: allowedIPs) { change throws(WireGuardError) in
            try whileOpen { () throws(WireGuardError) in try control.set(UAPIRequest.setPeer(peer, allowedIPs: change)) }
        }
    }

    func removePeer(_ publicKey: PublicKey) throws(WireGuardError) {
        allowedIPsSet.forget(publicKey)
        try whileOpen { () throws(WireGuardError) in try control.set(UAPIRequest.removePeer(publicKey)) }
    }

    func sendKeepalive(to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        try whileOpen { () throws(WireGuardError) in try control.set(UAPIRequest.sendKeepalive(publicKey, interval: interval)) }
    }

    func status() throws(WireGuardError) -> WireGuardDeviceStatus {
        try whileOpen { () throws(WireGuardError) in try UAPIStatus.parse(control.get(), publicKey: publicKey) }
    }

    func shutdown() {
        isShutDown.withLock { isShutDown in
            guard !isShutDown else { return }
            isShutDown = true
            Self.tearDown(link: link, control: control, daemon: daemon)
        }
    }

    /// Runs `body` unless shut down, serialised with other calls and with `shutdown`.
    private func whileOpen<Result: Sendable>(_ body: () throws(WireGuardError) -> Result) throws(WireGuardError) -> Result {
        try isShutDown.withLock { (isShutDown: inout Bool) throws(WireGuardError) -> Result in
            guard !isShutDown else { throw WireGuardError(.shutDown, "WireGuard device \(interfaceName) has been shut down") }
            do throws(WireGuardError) { return try body() } catch { throw Self.explain(error, daemon: daemon) }
        }
    }

    /// Raises wireguard-go's UDP socket buffers to `socketBufferBytes` once it has opened them (it does when the link
    /// comes up, on its own thread; bounded wait). wireguard-go before 0.0.20230223 keeps the kernel's default
    /// (~208 KiB): on a relayed path the agent delivers batches of datagrams to it over loopback, and a burst that
    /// arrives while it is descheduled overflowed that queue (thousands of drops in 5 s, docs/performance.md
    /// "Relayed path"). Best effort: without pidfd_getfd (Linux 5.6) or the rights, the default stays.
    private static func forceSocketBuffers(of daemon: SupervisedProcess) {
        let deadline = ContinuousClock.now + socketOpenTimeout
        while daemon.exitStatus == nil {
            guard let raised = try? SystemCall.forceUDPBuffers(ofProcess: daemon.processID, bytes: socketBufferBytes),
                  raised == 0, ContinuousClock.now < deadline else { return }
            usleep(5_000)
        }
    }

    /// Polls the UAPI socket until wireguard-go answers, it exits, or the startup timeout passes.
    private static func waitForControlSocket(_ control: UAPIClient, daemon: SupervisedProcess) throws(WireGuardError) {
        let deadline = ContinuousClock.now + startupTimeout
        while true {
            if daemon.exitStatus != nil { throw WireGuardError(.processExited, "wireguard-go exited during startup") }
            do {
                _ = try control.get()
                return
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw WireGuardError(.timedOut, "wireguard-go did not open \(control.socketPath) within \(startupTimeout)")
                }
            }
            usleep(20_000)
        }
    }

    /// Deletes the interface (its routes go with it), stops wireguard-go, removes a stale socket.
    private static func tearDown(link: NetworkLink, control: UAPIClient, daemon: SupervisedProcess) {
        link.delete()
        daemon.terminate()
        control.removeIfStale()
    }

    /// Replaces an error with wireguard-go's own account when it has exited.
    private static func explain(_ error: WireGuardError, daemon: SupervisedProcess) -> WireGuardError {
        guard let status = daemon.exitStatus ?? daemon.waitForExit(timeout: .milliseconds(100)) else { return error }
        return WireGuardStartupFailure.explain(output: daemon.recentOutput, status: status)
    }

    /// Our public key, from `wg pubkey`; nil when wireguard-tools is missing (the UAPI does not report it).
    private static func derivePublicKey(_ privateKey: [UInt8]) -> PublicKey? {
        guard let output = try? NetworkLink.run(["wg", "pubkey"], input: Array((Base64.encode(privateKey) + "\n").utf8)) else {
            return nil
        }
        return try? PublicKey(base64: String(output.text.filter { !$0.isWhitespace }))
    }
}
