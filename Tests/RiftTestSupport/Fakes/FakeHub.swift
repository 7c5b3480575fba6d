import RiftAgent
import RiftProtocol
import RiftSupport

/// An in-memory hub: it welcomes agents, announces joins and departures, relays signals between agents in order, and
/// can go down and come back. Signals are not sealed: sealing is `HubLink`'s job, tested with the real hub.
public final class FakeHub: Sendable {
    private struct Member {
        var info: PeerInfo
        var deliver: (@Sendable (SignalingEvent) -> Void)?
        var connected = false
    }

    private struct State {
        var members: [PublicKey: Member] = [:]
        /// Connection order, so welcomes list peers the way a real hub would.
        var order: [PublicKey] = []
        var up = true
        var nextHost: UInt32 = 1
        var turn = false
    }

    private let state = Locked(State())
    /// Signals relayed so far, in order.
    public let relayed = Locked<[SignalPayload]>([])

    /// A hub; with `turn` its welcomes list a TURN server (so agents can fall back to relays).
    public init(turn: Bool = false) { state.withLock { $0.turn = turn } }

    /// The transport an agent with `key` and `name` uses; the same key gets the same overlay addresses again.
    public func transport(for key: PublicKey, name: String) -> Transport {
        state.withLock { state in
            if state.members[key] == nil {
                let host = state.nextHost
                state.nextHost += 1
                let info = PeerInfo(publicKey: key, name: name, ipv4: IPv4Address(0x6440_0000 + host),
                                    ipv6: IPv6Prefix("fd7a:115c:a1e0::/48")!.address(interfaceID: UInt64(host)))
                state.members[key] = Member(info: info)
            }
        }
        return Transport(hub: self, key: key)
    }

    /// Whether the hub accepts connections.
    public var isUp: Bool { state.withLock { $0.up } }

    /// Drops every connection; agents are told they are disconnected.
    public func goDown() {
        let told: [@Sendable (SignalingEvent) -> Void] = state.withLock { state in
            state.up = false
            var told: [@Sendable (SignalingEvent) -> Void] = []
            for key in state.order {
                guard let deliver = state.members[key]?.deliver, state.members[key]?.connected == true else { continue }
                state.members[key]?.connected = false
                told.append(deliver)
            }
            state.order = []
            return told
        }
        for deliver in told { deliver(.disconnected(reason: "hub went away", retryInMilliseconds: 500)) }
    }

    /// Comes back; every started agent reconnects, one after the other.
    public func comeUp() {
        let waiting: [PublicKey] = state.withLock { state in
            state.up = true
            return state.members.keys.sorted().filter { state.members[$0]?.deliver != nil }
        }
        for key in waiting { connect(key) }
    }

    fileprivate func connect(_ key: PublicKey) {
        let deliveries: [(@Sendable (SignalingEvent) -> Void, SignalingEvent)] = state.withLock { state in
            guard state.up, var member = state.members[key], let deliver = member.deliver, !member.connected else { return [] }
            member.connected = true
            state.members[key] = member
            let present = state.order.compactMap { state.members[$0] }
            state.order.append(key)
            let ice = ICEServers(stun: ["stun:192.0.2.254:3478"], turn: state.turn ? [
                TURNServer(urls: ["turn:192.0.2.254:3478?transport=udp"], username: "u", credential: "c", expiresAt: Int64.max),
            ] : [])
            let welcome = Welcome(version: 1, network: "lab", me: member.info, ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                                  ipv6Prefix: IPv6Prefix("fd7a:115c:a1e0::/48")!, peers: present.map(\.info), ice: ice,
                                  heartbeatSeconds: 20)
            var deliveries: [(@Sendable (SignalingEvent) -> Void, SignalingEvent)] = [(deliver, .welcome(welcome))]
            for other in present { if let tell = other.deliver { deliveries.append((tell, .peerJoined(member.info))) } }
            return deliveries
        }
        for (deliver, event) in deliveries { deliver(event) }
    }

    fileprivate func start(_ key: PublicKey, deliver: @escaping @Sendable (SignalingEvent) -> Void) {
        state.withLock { $0.members[key]?.deliver = deliver }
        connect(key)
    }

    fileprivate func leave(_ key: PublicKey) {
        let deliveries: [(@Sendable (SignalingEvent) -> Void, SignalingEvent)] = state.withLock { state in
            guard let member = state.members[key] else { return [] }
            state.members[key]?.deliver = nil
            state.members[key]?.connected = false
            state.order.removeAll { $0 == key }
            guard member.connected else { return [] }
            return state.order.compactMap { state.members[$0]?.deliver }
                .map { ($0, .peerLeft(PeerLeft(publicKey: key, reason: "disconnected"))) }
        }
        for (deliver, event) in deliveries { deliver(event) }
    }

    fileprivate func relay(_ payload: SignalPayload, from key: PublicKey) {
        let deliver: (@Sendable (SignalingEvent) -> Void)? = state.withLock { state in
            guard state.up, payload.from == key, state.members[key]?.connected == true,
                  let recipient = state.members[payload.to], recipient.connected else { return nil }
            return recipient.deliver
        }
        guard let deliver else { return }
        relayed.withLock { $0.append(payload) }
        deliver(.signal(payload))
    }

    /// One agent's connection to the fake hub.
    public final class Transport: SignalingTransport {
        let hub: FakeHub
        let key: PublicKey

        init(hub: FakeHub, key: PublicKey) {
            self.hub = hub
            self.key = key
        }

        public func start(deliver: @escaping @Sendable (SignalingEvent) -> Void) { hub.start(key, deliver: deliver) }
        public func send(_ payload: SignalPayload) { hub.relay(payload, from: key) }
        public func stop() { hub.leave(key) }
    }
}
