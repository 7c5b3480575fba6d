@testable import RiftAgent
import RiftProtocol

/// Two (or more) `Mesh` values wired together by an in-memory hub and a scripted ICE runtime, so negotiation can be
/// tested end to end with no sockets: signals are delivered in order, ICE sessions "gather" one host candidate.
struct MeshHarness {
    var meshes: [PublicKey: Mesh] = [:]
    var actions: [PublicKey: [MeshAction]] = [:]
    var clock: Int64 = 0
    var counter = 0

    static func key(_ seed: UInt8) -> PublicKey { try! PublicKey(bytes: Array(repeating: seed, count: 32)) }

    static func info(_ seed: UInt8) -> PeerInfo {
        PeerInfo(publicKey: key(seed), name: "peer-\(seed)", ipv4: IPv4Address(UInt32(0x6440_0000) + UInt32(seed)),
                 ipv6: IPv6Prefix("fd00::/64")!.address(interfaceID: UInt64(seed)))
    }

    static func welcome(for seed: UInt8, peers: [UInt8], turn: Bool = false) -> Welcome {
        Welcome(version: 1, network: "home", me: info(seed), ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                ipv6Prefix: IPv6Prefix("fd00::/64")!, peers: peers.map(info),
                ice: ICEServers(stun: [], turn: turn ? [TURNServer(urls: ["turn:x:3478"], username: "u", credential: "c", expiresAt: 9)] : []),
                heartbeatSeconds: 20)
    }

    mutating func add(_ seed: UInt8) {
        meshes[Self.key(seed)] = Mesh(me: Self.key(seed), listenPort: 51_000 + UInt16(seed), sessionID: {
            "s\(seed)-\(UInt32.random(in: 0...UInt32.max))"
        })
    }

    /// Feeds an event and returns the actions, recording them too.
    @discardableResult
    mutating func send(_ event: MeshEvent, to seed: UInt8) -> [MeshAction] {
        let result = meshes[Self.key(seed)]!.handle(event)
        actions[Self.key(seed), default: []] += result
        return result
    }

    /// Plays the scripted runtime until no action produces a new event: ICE sessions start, gather one host
    /// candidate each, and — once both sides have the other's description — select a host pair (or `pairKind`). With
    /// `serverAnswerTakes`, each side's session also gathers a server-reflexive candidate that many milliseconds of
    /// mesh time after it started (a STUN server that far away).
    mutating func settle(pairKind: CandidateKind = .host, serverAnswerTakes: Int64 = 0, maxRounds: Int = 50) {
        var queue: [(UInt8, MeshEvent)] = []
        var remoteSet: Set<String> = []
        var pending = actions
        actions = [:]
        for _ in 0..<maxRounds {
            for (key, list) in pending {
                let seed = key.bytes[0]
                for action in list {
                    switch action {
                    case .startICE(let peer, let instance, _, _):
                        queue.append((seed, .iceStarted(peer: peer, instance: instance, ufrag: "u\(instance)", pwd: "p\(instance)")))
                        queue.append((seed, .iceCandidate(peer: peer, instance: instance,
                                                          candidate: "candidate:1 1 UDP 1 192.0.2.\(seed) 4000 typ host")))
                        if serverAnswerTakes > 0 {
                            queue.append((seed, .tick(nowMilliseconds: clock + serverAnswerTakes, handshakeAge: [:])))
                            queue.append((seed, .iceCandidate(peer: peer, instance: instance,
                                                              candidate: "candidate:2 1 UDP 1 198.51.100.\(seed) 4000 typ srflx")))
                        }
                        queue.append((seed, .iceGatheringDone(peer: peer, instance: instance)))
                    case .sendSignal(let payload):
                        queue.append((payload.to.bytes[0], .signal(payload)))
                    case .setRemoteDescription(let peer, let instance, _, _, _):
                        remoteSet.insert("\(seed)-\(peer.bytes[0])")
                        if remoteSet.contains("\(peer.bytes[0])-\(seed)") {
                            for (a, b) in [(seed, peer.bytes[0]), (peer.bytes[0], seed)] {
                                guard let inst = meshes[Self.key(a)]!.peers[Self.key(b)]?.instance else { continue }
                                // Host pairs use the gathered host candidates; other kinds have addresses of their own.
                                let net = pairKind == .host ? "192.0.2" : "198.51.100"
                                let local = CandidateEndpoint(kind: pairKind, address: "\(net).\(a)", port: 4000)
                                let remote = CandidateEndpoint(kind: pairKind, address: "\(net).\(b)", port: 4000)
                                queue.append((a, .iceState(peer: Self.key(b), instance: inst, state: .ready)))
                                queue.append((a, .iceSelectedPair(peer: Self.key(b), instance: inst, local: local, remote: remote)))
                            }
                        }
                        _ = instance
                    default: break
                    }
                }
            }
            pending = [:]
            if queue.isEmpty { return }
            let batch = queue
            queue = []
            for (seed, event) in batch {
                let result = meshes[Self.key(seed)]!.handle(event)
                pending[Self.key(seed), default: []] += result
                actions[Self.key(seed), default: []] += result
            }
        }
    }

    func all(_ seed: UInt8) -> [MeshAction] { actions[Self.key(seed)] ?? [] }

    /// Agents 1 and 2, each welcomed by the hub with the other as its peer; nothing settled yet.
    static func welcomedPair() -> MeshHarness {
        var h = MeshHarness()
        h.add(1); h.add(2)
        h.send(.hubWelcome(welcome(for: 1, peers: [2])), to: 1)
        h.send(.hubWelcome(welcome(for: 2, peers: [1])), to: 2)
        return h
    }

    /// Agents 1 (controlling) and 2 negotiated a `pairKind` pair and report a recent handshake with ICE ready; no
    /// actions recorded yet.
    static func connectedPair(pairKind: CandidateKind = .host) -> MeshHarness {
        var h = welcomedPair()
        h.settle(pairKind: pairKind)
        h.send(.tick(nowMilliseconds: 60_000, handshakeAge: [key(2): 3]), to: 1)
        h.send(.tick(nowMilliseconds: 60_000, handshakeAge: [key(1): 3]), to: 2)
        h.actions = [:]
        return h
    }
}
