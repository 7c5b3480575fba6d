import RiftProtocol
import RiftWireGuard
import RiftSupport

/// In-memory WireGuard devices that "handshake" with each other: two devices configured with each other's key and an
/// endpoint complete a handshake whenever status is read — unless both endpoints are direct and the test cut the
/// direct path between the two machines (a forwarded path goes over ICE, which the ICE fake fails instead). Byte
/// counters advance by one keepalive on every status read, on each side that has keepalive on, when the path works.
public final class FakeWireGuardNetwork: Sendable {
    private let clock: ManualClock
    private let devices = Locked<[PublicKey: FakeWireGuardDevice]>([:])
    private let cut = Locked<Set<Set<String>>>([])

    /// Devices on `clock`'s time.
    public init(clock: ManualClock) { self.clock = clock }

    /// Opens the device of the agent with `key` on a machine with address `host`; the next open replaces it.
    public func open(key: PublicKey, host: String, configuration: InterfaceConfiguration) -> FakeWireGuardDevice {
        let device = FakeWireGuardDevice(network: self, key: key, host: host, configuration: configuration)
        devices.withLock { $0[key] = device }
        return device
    }

    /// The device of `key`, if open.
    public func device(_ key: PublicKey) -> FakeWireGuardDevice? { devices.withLock { $0[key] } }

    /// Direct WireGuard packets between `a` and `b` are lost.
    public func cut(_ a: String, _ b: String) { cut.withLock { _ = $0.insert([a, b]) } }
    /// They flow again.
    public func restore(_ a: String, _ b: String) { cut.withLock { _ = $0.remove([a, b]) } }

    fileprivate func closed(_ device: FakeWireGuardDevice) {
        devices.withLock { if $0[device.key] === device { $0[device.key] = nil } }
    }

    /// Whether `device` and its peer `key` can handshake now.
    fileprivate func handshakes(_ device: FakeWireGuardDevice, with key: PublicKey) -> Bool {
        guard let other = self.device(key), !other.isShutDown, let mine = device.peers[key]?.endpoint,
              let theirs = other.peers[device.key]?.endpoint else { return false }
        let loopback = WireGuardEndpoint.Host.ipv4(IPv4Address("127.0.0.1")!)
        let direct = mine.host != loopback && theirs.host != loopback
        return !(direct && cut.withLock { $0.contains([device.host, other.host]) })
    }

    var now: Int64 { clock.epochSeconds() }
}

/// One in-memory WireGuard device; it records every configuration it was given.
public final class FakeWireGuardDevice: WireGuardDevice {
    private struct State {
        var peers: [PublicKey: WireGuardPeer] = [:]
        var history: [WireGuardPeer] = []
        var lastHandshake: [PublicKey: Int64] = [:]
        var received: [PublicKey: UInt64] = [:]
        var sent: [PublicKey: UInt64] = [:]
        var keepalivesSent: [PublicKey: Int] = [:]
        var shutDown = false
    }

    let network: FakeWireGuardNetwork
    let key: PublicKey
    let host: String
    private let state = Locked(State())
    public let interfaceName: String
    public let listenPort: UInt16
    public var backend: WireGuardBackend { .userspace }

    init(network: FakeWireGuardNetwork, key: PublicKey, host: String, configuration: InterfaceConfiguration) {
        self.network = network
        self.key = key
        self.host = host
        interfaceName = configuration.name
        listenPort = configuration.listenPort == 0 ? 51_820 : configuration.listenPort
    }

    /// The peers as configured now.
    public var peers: [PublicKey: WireGuardPeer] { state.withLock { $0.peers } }
    /// Every `setPeer`, in order.
    public var history: [WireGuardPeer] { state.withLock { $0.history } }
    /// Whether `shutdown()` ran.
    public var isShutDown: Bool { state.withLock { $0.shutDown } }

    /// WireGuard's endpoint roaming: an authenticated datagram from the peer came from `endpoint`, which WireGuard
    /// sends to from now on (no `setPeer`, so not in `history`).
    public func roam(_ publicKey: PublicKey, to endpoint: WireGuardEndpoint) {
        state.withLock { $0.peers[publicKey]?.endpoint = endpoint }
    }

    public func setPeer(_ peer: WireGuardPeer) throws(WireGuardError) {
        try state.withLock { state throws(WireGuardError) in
            guard !state.shutDown else { throw WireGuardError(.shutDown, "device is shut down") }
            var updated = peer
            if updated.endpoint == nil { updated.endpoint = state.peers[peer.publicKey]?.endpoint }
            state.peers[peer.publicKey] = updated
            state.history.append(peer)
        }
    }

    public func removePeer(_ publicKey: PublicKey) throws(WireGuardError) {
        state.withLock {
            $0.peers[publicKey] = nil
            $0.lastHandshake[publicKey] = nil
            $0.received[publicKey] = nil
            $0.sent[publicKey] = nil
        }
    }

    /// Counts the keepalive and adds it to the sent bytes (the peer's device sees it on its next read anyway: every
    /// read counts one keepalive interval).
    public func sendKeepalive(to publicKey: PublicKey, interval: UInt16) throws(WireGuardError) {
        try state.withLock { state throws(WireGuardError) in
            guard !state.shutDown else { throw WireGuardError(.shutDown, "device is shut down") }
            guard state.peers[publicKey] != nil else { return }
            state.keepalivesSent[publicKey, default: 0] += 1
            state.sent[publicKey, default: 0] += Self.keepaliveBytes
        }
    }

    /// How many keepalives the agent asked for, per peer (`sendKeepalive`).
    public var keepalivesSent: [PublicKey: Int] { state.withLock { $0.keepalivesSent } }

    public func status() throws(WireGuardError) -> WireGuardDeviceStatus {
        let keys = state.withLock { Array($0.peers.keys) }
        let now = network.now
        // Every read counts as one keepalive interval: each side with keepalive on sends one packet, which arrives
        // when the path works.
        for peer in keys {
            let works = network.handshakes(self, with: peer)
            let peerSends = network.device(peer)?.peers[key]?.persistentKeepalive != nil
            state.withLock { state in
                if works { state.lastHandshake[peer] = now }
                if works, peerSends { state.received[peer, default: 0] += Self.keepaliveBytes }
                if state.peers[peer]?.persistentKeepalive != nil, state.peers[peer]?.endpoint != nil {
                    state.sent[peer, default: 0] += Self.keepaliveBytes
                }
            }
        }
        return state.withLock { state in
            WireGuardDeviceStatus(listenPort: listenPort, publicKey: key, peers: state.peers.values.map { peer in
                WireGuardPeerStatus(publicKey: peer.publicKey, endpoint: peer.endpoint?.description,
                                    lastHandshake: state.lastHandshake[peer.publicKey],
                                    rxBytes: state.received[peer.publicKey] ?? 0, txBytes: state.sent[peer.publicKey] ?? 0,
                                    allowedIPs: peer.allowedIPs,
                                    persistentKeepalive: peer.persistentKeepalive)
            })
        }
    }

    /// The size of a WireGuard keepalive as the counters see it.
    static let keepaliveBytes: UInt64 = 32

    public func shutdown() {
        state.withLock { $0.shutDown = true }
        network.closed(self)
    }
}

