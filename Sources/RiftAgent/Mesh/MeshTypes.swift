import RiftProtocol

/// The type of an ICE candidate, as the mesh logic needs it (mirrors libnice's, without depending on it).
public enum CandidateKind: String, Sendable, Hashable, Codable {
    case host
    case serverReflexive = "srflx"
    case peerReflexive = "prflx"
    case relayed = "relay"
}

/// One end of the ICE pair that carries a peer's traffic.
public struct CandidateEndpoint: Sendable, Hashable {
    /// The candidate's type.
    public var kind: CandidateKind
    /// Its IP address.
    public var address: String
    /// Its UDP port.
    public var port: UInt16
    /// For a local end, the host socket (address and port) that sends for it: the candidate itself for a host
    /// candidate, the socket behind the NAT for a server- or peer-reflexive one. Nil for remote ends, and when unknown.
    public var base: TransportAddress?

    /// Creates an endpoint.
    public init(kind: CandidateKind, address: String, port: UInt16, base: TransportAddress? = nil) {
        self.kind = kind
        self.address = address
        self.port = port
        self.base = base
    }

    public var description: String { "\(kind.rawValue) \(address):\(port)" }
}

/// ICE connectivity of one session, as the mesh logic needs it (the runtime maps libnice's states onto it with an
/// exhaustive `switch`, so a new state cannot slip through unmapped). The raw values are what `riftgate status` shows.
public enum ICEConnectivity: String, Sendable, Hashable, Codable {
    /// No session for this generation (yet).
    case idle
    /// Local candidates are being gathered.
    case gathering
    /// Connectivity checks are running.
    case connecting
    /// At least one pair works.
    case connected
    /// A pair is nominated and carries data.
    case ready
    /// No pair worked, or consent freshness expired.
    case failed
    /// The session stopped all activity (no checks, no consent): its path is gone as surely as after `failed`.
    case disconnected

    /// Whether the session can no longer carry traffic by itself, so recovery must start a new generation.
    public var isLost: Bool {
        switch self {
        case .failed, .disconnected: true
        case .idle, .gathering, .connecting, .connected, .ready: false
        }
    }
}

/// Where WireGuard sends a peer's tunnel packets.
public enum DataPathMode: Sendable, Hashable {
    /// Straight to the remote WireGuard listen port: no hop through the agent (host-to-host pairs).
    case direct(address: String, port: UInt16)
    /// Straight to the remote candidate's address, with WireGuard's port handed over to the local ICE socket's port
    /// by stateless nftables rewriting (server- and peer-reflexive pairs; see `PortHandover`).
    case handedOver(PortHandover)
    /// Through the agent, over the libnice component (relayed pairs, and reflexive ones whose hand-over failed).
    case forwarded
}

/// A UDP transport address.
public struct TransportAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address, numeric.
    public var address: String
    /// The UDP port.
    public var port: UInt16

    /// Creates a transport address.
    public init(address: String, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Whether the address is IPv6.
    public var isIPv6: Bool { address.contains(":") }

    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

/// When WireGuard's persistent keepalive starts for a peer just configured.
public enum KeepaliveStart: Sendable, Hashable {
    /// At once: WireGuard sends, and so starts a handshake, immediately.
    case now
    /// Configured without keepalive; the runtime turns it on after the delay.
    case after(Duration)
}

/// Which of our candidates an ICE generation gathers.
public enum ICECandidateScope: Sendable, Equatable {
    /// Host, server-reflexive and (with a TURN server) relayed: a normal generation.
    case all
    /// Relayed only (the offer says so, and both sides gather alike): after a failure, or on suspicion.
    case relayOnly
    /// Everything but a relay of our own: the try to get a relayed tunnel off the relay (PeerSession+Upgrade).
    case withoutOwnRelay

    /// How the scope narrows the gathering, for logs and the negotiation timeline; nil for `all`.
    public var restriction: String? {
        switch self {
        case .all: nil
        case .relayOnly: "relay only"
        case .withoutOwnRelay: "no relay of ours"
        }
    }
}

/// An instruction from the mesh logic to the runtime, which performs the I/O.
public enum MeshAction: Sendable, Equatable {
    /// Seal `payload` for `payload.to` and send it through the hub.
    case sendSignal(SignalPayload)
    /// Create ICE session `instance` for `peer` and start gathering the candidates of `scope`; the runtime answers with
    /// `MeshEvent.iceStarted`.
    case startICE(peer: PublicKey, instance: UInt64, controlling: Bool, scope: ICECandidateScope)
    /// Give ICE session `instance` the remote credentials and first candidates.
    case setRemoteDescription(peer: PublicKey, instance: UInt64, ufrag: String, pwd: String, candidates: [String])
    /// Add one trickled remote candidate.
    case addRemoteCandidate(peer: PublicKey, instance: UInt64, candidate: String)
    /// The remote side gathered everything.
    case remoteGatheringDone(peer: PublicKey, instance: UInt64)
    /// Close ICE session `instance` (and any forwarding bound to it).
    case closeICE(peer: PublicKey, instance: UInt64)
    /// Bind a loopback forwarding socket between WireGuard and ICE session `instance` (a forwarded path); binding one
    /// already bound keeps it. Comes before the `configureWireGuardPeer` that points WireGuard at it.
    case bindForwarding(peer: PublicKey, instance: UInt64)
    /// Release ICE session `instance`'s forwarding socket, if it has one (the path no longer hops through the agent).
    case releaseForwarding(peer: PublicKey, instance: UInt64)
    /// Add or update the WireGuard peer with its overlay addresses as allowed IPs, reached through `path` (for a
    /// forwarded path, through ICE session `instance`); its persistent keepalive starts as `keepalive` says.
    case configureWireGuardPeer(PeerInfo, path: DataPathMode, instance: UInt64, keepalive: KeepaliveStart)
    /// Remove the WireGuard peer.
    case removeWireGuardPeer(PublicKey)
    /// Make WireGuard send one keepalive to the peer now (see `SendWatch`).
    case sendKeepalive(PublicKey)
    /// Send the peer a small datagram through the tunnel that its side answers (its kernel with an ICMP error, its
    /// agent with a keepalive, since it is data), so that a quiet path hears back at once if it works
    /// (`ReceiveWatch.isProbeDue(now:)`).
    case probePath(PeerInfo)
    /// Remove the WireGuard peer and configure it again over `path` with keepalive at once: a new peer in WireGuard
    /// sends a handshake initiation immediately, where the existing one would wait out its 5-second retry.
    case restartWireGuardHandshake(PeerInfo, path: DataPathMode, instance: UInt64)
}

/// Something that happened, fed to the mesh logic in order.
public enum MeshEvent: Sendable {
    /// The hub session opened (first time or after a reconnect).
    case hubWelcome(Welcome)
    /// The hub connection dropped; tunnels stay up.
    case hubDisconnected
    /// A peer authenticated in the network (possibly again, after its agent restarted).
    case peerJoined(PeerInfo)
    /// The hub said a peer left, and why (`peer_left.reason`, PROTOCOL.md §6.6).
    case peerLeft(PublicKey, reason: String)
    /// A signaling payload from a peer, already opened and checked against its envelope.
    case signal(SignalPayload)
    /// The runtime created ICE session `instance`; these are its local credentials.
    case iceStarted(peer: PublicKey, instance: UInt64, ufrag: String, pwd: String)
    /// ICE session `instance` gathered a local candidate.
    case iceCandidate(peer: PublicKey, instance: UInt64, candidate: String)
    /// ICE session `instance` finished gathering.
    case iceGatheringDone(peer: PublicKey, instance: UInt64)
    /// ICE session `instance` changed state.
    case iceState(peer: PublicKey, instance: UInt64, state: ICEConnectivity)
    /// ICE session `instance` selected (or changed) its pair.
    case iceSelectedPair(peer: PublicKey, instance: UInt64, local: CandidateEndpoint, remote: CandidateEndpoint)
    /// The peer's WireGuard datagrams reach ICE session `instance`'s agent although the pair is handed over: the
    /// peer sends on another pair than the one this side selected (`PeerSession.handoverBypassed`).
    case handoverBypassed(peer: PublicKey, instance: UInt64)
    /// Periodic check with the WireGuard handshake age of each peer (nil: never) and its byte counters (see
    /// `ReceiveWatch`; a peer missing from `traffic` is not judged by them).
    case tick(nowMilliseconds: Int64, handshakeAge: [PublicKey: Int64], traffic: [PublicKey: TrafficCounters] = [:])
    /// The host's network changed: local addresses `vanished` or `appeared` (numeric text), or a default route
    /// changed. Peers whose path may have used what changed start a fresh ICE generation.
    case underlayChanged(vanished: Set<String>, appeared: Set<String>, routeChanged: Bool)
    /// The agent did not run for a while (suspend, or a stopped process): every path may be stale.
    case resumed(reason: String)
}
