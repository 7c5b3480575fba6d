import RiftAgent
import RiftNice
import RiftSupport

/// A scripted ICE world: sessions "gather" a host candidate on their machine's address (and a relayed one when TURN
/// is configured), and once both ends have each other's credentials and gathered, they connect over a host pair (as
/// trickle ICE does, without waiting for the end of candidates) — or, when the test cut the direct path between the
/// two machines and both ends also have each other's end of candidates, over the TURN relay if both have one, and
/// otherwise fail. Cutting a path also fails the host-pair sessions already using it (lost consent).
public final class FakeICENetwork: Sendable {
    /// The TURN relay's address in candidates.
    public static let relayAddress = "192.0.2.254"

    private struct State {
        var links: [String: FakeICELink] = [:]  // by local ufrag
        var cut: Set<Set<String>> = []
        var mapped: [String: String] = [:]  // machine behind a NAT -> its public address
        var nextID = 1
        var created = 0
    }

    private let state = Locked(State())

    /// An empty network.
    public init() {}

    /// The factory for sessions on a machine with address `host`.
    public func factory(host: String) -> Factory { Factory(network: self, host: host) }

    /// How many sessions were created so far.
    public var sessionsCreated: Int { state.withLock { $0.created } }

    /// Direct traffic between `a` and `b` stops (relays still work); sessions on host pairs between them fail — at once,
    /// or with `consentLost: false` not at all (libnice notices a lost consent only after 10 s; this models the seconds
    /// before it does, in which only the data path can tell).
    public func cut(_ a: String, _ b: String, consentLost: Bool = true) {
        let failing: [FakeICELink] = state.withLock { state in
            state.cut.insert([a, b])
            guard consentLost else { return [] }
            return state.links.values.filter { link in
                guard let pair = link.selected, pair.local.type == .host else { return false }
                return Set([pair.local.address, pair.remote.address]) == [a, b]
            }
        }
        for link in failing { link.fail() }
    }

    /// Puts machine `host` behind a NAT whose public address is `publicAddress`: its sessions connect over a
    /// server-reflexive candidate (port 60000 + session id, based on the host candidate) instead of the host one.
    public func putBehindNAT(_ host: String, publicAddress: String) {
        state.withLock { $0.mapped[host] = publicAddress }
    }

    /// Direct traffic between `a` and `b` works again.
    public func restore(_ a: String, _ b: String) { state.withLock { _ = $0.cut.remove([a, b]) } }

    fileprivate func register(_ configuration: ICESessionConfiguration, host: String,
                              deliver: @escaping @Sendable (ICEEvent) -> Void) -> FakeICELink {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.created += 1
            let link = FakeICELink(network: self, id: id, host: host, configuration: configuration, deliver: deliver)
            state.links[link.localCredentials.ufrag] = link
            return link
        }
    }

    fileprivate func unregister(_ link: FakeICELink) {
        state.withLock { _ = $0.links.removeValue(forKey: link.localCredentials.ufrag) }
    }

    /// Connects `link` with its peer once both are ready for checks.
    fileprivate func check(_ link: FakeICELink) {
        let outcome: (FakeICELink, FakeICELink, ICECandidateType?)? = state.withLock { state in
            guard let remoteUfrag = link.remoteUfrag, let other = state.links[remoteUfrag],
                  other.remoteUfrag == link.localCredentials.ufrag, link.readyForChecks, other.readyForChecks,
                  link.selected == nil, other.selected == nil, !link.concluded, !other.concluded else { return nil }
            let direct = !link.relayOnly && !other.relayOnly && !state.cut.contains([link.host, other.host])
            if direct, link.hasRemoteHost, other.hasRemoteHost { return (link, other, .host) }
            // A relayed pair or a failure is only known once both sides signaled all their candidates.
            guard link.hasRemoteEnd, other.hasRemoteEnd else { return nil }
            let relays = link.hasTURN && other.hasTURN
            if link.relayOnly || other.relayOnly { return (link, other, relays ? .relayed : nil) }
            if state.cut.contains([link.host, other.host]) { return (link, other, relays ? .relayed : nil) }
            return (link, other, .host)
        }
        guard let (a, b, kind) = outcome else { return }
        guard let kind else {
            a.fail()
            b.fail()
            return
        }
        let (mappedA, mappedB) = state.withLock { ($0.mapped[a.host], $0.mapped[b.host]) }
        let endA = a.endpoint(kind, mapped: mappedA)
        let endB = b.endpoint(kind, mapped: mappedB)
        a.select(local: endA, remote: Self.remoteView(endB))
        b.select(local: endB, remote: Self.remoteView(endA))
    }

    /// A candidate as the other end sees it: no base.
    static func remoteView(_ info: ICECandidateInfo) -> ICECandidateInfo {
        ICECandidateInfo(type: info.type, address: info.address, port: info.port, sdp: info.sdp)
    }

    /// Creates sessions for one machine.
    public struct Factory: ICELinkFactory {
        let network: FakeICENetwork
        let host: String

        public func makeLink(_ configuration: ICESessionConfiguration,
                             deliver: @escaping @Sendable (ICEEvent) -> Void) throws(ICEError) -> any ICELink {
            network.register(configuration, host: host, deliver: deliver)
        }

        public func shutdown() {}
    }
}

/// One scripted ICE session (see `FakeICENetwork`).
public final class FakeICELink: ICELink {
    private struct State {
        var remoteUfrag: String?
        var remoteDone = false
        var remoteHost = false
        var gathered = false
        var selected: (local: ICECandidateInfo, remote: ICECandidateInfo)?
        var concluded = false
        var closed = false
    }

    let network: FakeICENetwork
    let id: Int
    let host: String
    let hasTURN: Bool
    let relayOnly: Bool
    private let deliver: @Sendable (ICEEvent) -> Void
    private let state = Locked(State())
    public let localCredentials: (ufrag: String, pwd: String)

    init(network: FakeICENetwork, id: Int, host: String, configuration: ICESessionConfiguration,
         deliver: @escaping @Sendable (ICEEvent) -> Void) {
        self.network = network
        self.id = id
        self.host = host
        hasTURN = !configuration.servers.turn.isEmpty
        relayOnly = configuration.servers.forceRelay
        self.deliver = deliver
        localCredentials = (ufrag: "fake\(id)", pwd: "fakepassword\(id)padding00")
    }

    var remoteUfrag: String? { state.withLock { $0.remoteUfrag } }
    var readyForChecks: Bool { state.withLock { $0.remoteUfrag != nil && $0.gathered && !$0.closed } }
    var hasRemoteEnd: Bool { state.withLock { $0.remoteDone } }
    var hasRemoteHost: Bool { state.withLock { $0.remoteHost } }
    var selected: (local: ICECandidateInfo, remote: ICECandidateInfo)? { state.withLock { $0.selected } }
    var concluded: Bool { state.withLock { $0.concluded } }

    func endpoint(_ kind: ICECandidateType, mapped: String? = nil) -> ICECandidateInfo {
        let hostPort = UInt16(40_000 + id)
        if kind == .relayed {
            return ICECandidateInfo(type: .relayed, address: FakeICENetwork.relayAddress, port: UInt16(50_000 + id),
                                    baseAddress: host, basePort: hostPort)
        }
        if let mapped {
            return ICECandidateInfo(type: .serverReflexive, address: mapped, port: UInt16(60_000 + id),
                                    baseAddress: host, basePort: hostPort)
        }
        return ICECandidateInfo(type: .host, address: host, port: hostPort, baseAddress: host, basePort: hostPort)
    }

    public func startGathering() throws(ICEError) {
        emit(.stateChanged(.gathering))
        if !relayOnly { emit(.localCandidate("candidate:1 1 UDP 2130706431 \(host) \(40_000 + id) typ host")) }
        if hasTURN {
            emit(.localCandidate("candidate:2 1 UDP 16777215 \(FakeICENetwork.relayAddress) \(50_000 + id) typ relay raddr \(host) rport \(40_000 + id)"))
        }
        emit(.gatheringDone)
        state.withLock { $0.gathered = true }
        network.check(self)
    }

    public func setRemoteCredentials(ufrag: String, pwd: String) throws(ICEError) {
        state.withLock { $0.remoteUfrag = ufrag }
        network.check(self)
    }

    public func addRemoteCandidate(_ sdp: String) throws(ICEError) {
        guard sdp.contains(" typ host") else { return }
        state.withLock { $0.remoteHost = true }
        network.check(self)
    }

    public func remoteGatheringDone() {
        state.withLock { $0.remoteDone = true }
        network.check(self)
    }

    @discardableResult public func send(_ bytes: UnsafeRawBufferPointer) -> Bool { selected != nil }
    public func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {}

    public func close() {
        state.withLock { $0.closed = true }
        network.unregister(self)
    }

    func select(local: ICECandidateInfo, remote: ICECandidateInfo) {
        state.withLock {
            $0.selected = (local, remote)
            $0.concluded = true
        }
        emit(.stateChanged(.connecting))
        emit(.stateChanged(.ready))
        emit(.selectedPair(local: local, remote: remote))
    }

    func fail() {
        state.withLock {
            $0.selected = nil
            $0.concluded = true
        }
        emit(.stateChanged(.failed))
    }

    private func emit(_ event: ICEEvent) {
        guard !state.withLock({ $0.closed }) else { return }
        deliver(event)
    }
}
