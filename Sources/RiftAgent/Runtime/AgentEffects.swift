public import RiftDNS
public import RiftNice
public import RiftProtocol
public import RiftWireGuard

// The runtime's effects, each behind a small protocol: the real program plugs in the hub's WebSocket session, libnice,
// the kernel or wireguard-go and the forwarding thread; tests plug in fakes (Tests/RiftTestSupport) and run whole
// agents without root, sockets or C libraries.

/// What the hub session reports to the agent.
public enum SignalingEvent: Sendable {
    /// Joined (first time or after a reconnect).
    case welcome(Welcome)
    /// A peer authenticated in the network.
    case peerJoined(PeerInfo)
    /// A peer left.
    case peerLeft(PeerLeft)
    /// A signal from a peer, already opened and checked against its envelope.
    case signal(SignalPayload)
    /// New STUN/TURN servers (TURN credentials are renewed).
    case iceServers(ICEServers)
    /// The connection dropped; the transport reconnects by itself after the delay.
    case disconnected(reason: String, retryInMilliseconds: Int)
    /// Refused for good (revoked token or key, unknown network, unsupported version): the agent exits.
    case refused(code: String, message: String)
}

/// The agent's signaling channel: the hub session (`HubLink`), or an in-memory hub in tests.
public protocol SignalingTransport: AnyObject, Sendable {
    /// Connects, reconnecting after every loss until `stop()` or a permanent refusal; reports through `deliver`, in
    /// order, from any thread. Returns at once.
    func start(deliver: @escaping @Sendable (SignalingEvent) -> Void)
    /// Seals `payload` for its recipient and sends it; dropped (and logged) while the hub is unreachable.
    func send(_ payload: SignalPayload)
    /// Stops reconnecting and closes the connection. Idempotent.
    func stop()
    /// Drops the connection (or cuts the wait before the next attempt) and connects again at once, because the network
    /// changed under it or the machine resumed; rate-limited. Returns whether it acted.
    @discardableResult func reconnectNow(because reason: String) -> Bool
    /// The URL of the hub connected to, or being connected to (one of several, for a hub cluster); nil when the
    /// transport cannot say.
    var currentHub: String? { get }
    /// Why the current connection cannot have survived a network change (its local address is gone, or the route to
    /// the hub now leaves from another address); nil when it is fine or there is no connection.
    func connectionLostToNetworkChange() -> String?
}

extension SignalingTransport {
    /// A transport that cannot be told about the network (an in-memory hub) just keeps its connection.
    @discardableResult public func reconnectNow(because reason: String) -> Bool { false }
    public func connectionLostToNetworkChange() -> String? { nil }
    public var currentHub: String? { nil }
}

/// One ICE session with one peer, as the runtime uses it (`ICESession` in the real program).
public protocol ICELink: AnyObject, Sendable {
    /// This side's credentials for the description.
    var localCredentials: (ufrag: String, pwd: String) { get }
    /// Starts gathering; candidates and the end of gathering arrive as events.
    func startGathering() throws(ICEError)
    /// The peer's credentials.
    func setRemoteCredentials(ufrag: String, pwd: String) throws(ICEError)
    /// One of the peer's candidates.
    func addRemoteCandidate(_ sdp: String) throws(ICEError)
    /// The peer gathered everything.
    func remoteGatheringDone()
    /// Sends one datagram over the selected pair; false when it was dropped.
    @discardableResult func send(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Sends datagrams over the selected pair in order; returns how many were accepted (the rest were dropped).
    @discardableResult func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int
    /// The function that receives each datagram from the peer (see `ICESession.setReceiveHandler`).
    func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void)
    /// The same, with `flush` run after the datagrams of one receive iteration (see `ICESession.setReceiveHandler`).
    func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                           flush: @escaping @Sendable () -> Void)
    /// Closes the session; no event is delivered after it returns. Idempotent.
    func close()
}

extension ICELink {
    /// One `send` per datagram, for links without a batch send.
    @discardableResult public func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        var accepted = 0
        for datagram in datagrams where send(datagram) { accepted += 1 }
        return accepted
    }

    /// A flush after every datagram, for links that do not batch what they receive.
    public func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                                  flush: @escaping @Sendable () -> Void) {
        setReceiveHandler { bytes in
            handler(bytes)
            flush()
        }
    }
}

/// Creates ICE sessions.
public protocol ICELinkFactory: Sendable {
    /// A new session configured by `configuration`, reporting its events through `deliver` in order. Fails when the
    /// session cannot be created (the runtime logs it; recovery retries later).
    func makeLink(_ configuration: ICESessionConfiguration,
                  deliver: @escaping @Sendable (ICEEvent) -> Void) throws(ICEError) -> any ICELink
    /// Releases what the factory holds (the ICE thread). Idempotent.
    func shutdown()
}

/// Carries WireGuard's packets for a forwarded path: WireGuard sends to a loopback port, the forwarder hands each
/// datagram to the ICE link, and the link's received datagrams go back to WireGuard.
public protocol PacketForwarder: AnyObject, Sendable {
    /// Starts forwarding between WireGuard (listening on `wireGuardPort`) and `link`, for ICE session `instance`; returns
    /// the loopback port WireGuard must send to. Forwarding an instance already forwarded returns its port again.
    /// With `admit`, each datagram received from the link goes to WireGuard only when `admit` returns true (called on
    /// the ICE thread): a handed-over pair keeps this socket as a safety net (`HandoverBypassWatch`).
    func forward(instance: UInt64, link: any ICELink, wireGuardPort: UInt16,
                 admit: (@Sendable () -> Bool)?) throws(AgentError) -> UInt16
    /// Stops forwarding for `instance`; nothing when it is not forwarded.
    func stopForwarding(instance: UInt64)
    /// Stops everything. Idempotent.
    func shutdown()
}

extension PacketForwarder {
    /// Forwarding that hands every received datagram to WireGuard.
    public func forward(instance: UInt64, link: any ICELink, wireGuardPort: UInt16) throws(AgentError) -> UInt16 {
        try forward(instance: instance, link: link, wireGuardPort: wireGuardPort, admit: nil)
    }
}

/// Time as the runtime sees it: a monotonic clock for deadlines and the wall clock WireGuard's handshake times use.
public protocol AgentClock: Sendable {
    /// Milliseconds on a monotonic clock.
    func milliseconds() -> Int64
    /// Seconds since the Unix epoch.
    func epochSeconds() -> Int64
}

/// Enforces the access policy's port rules for inbound traffic on the WireGuard interface (nftables in the real
/// program, `InboundFilter`); follows presence as the hub reports it.
public protocol InboundFiltering: AnyObject, Sendable {
    /// A welcome: every peer's restriction replaced (and a table left by a crashed run removed).
    func welcome(_ peers: [PeerInfo])
    /// A peer joined or changed: its restriction set or lifted.
    func joined(_ peer: PeerInfo)
    /// A peer left.
    func left(_ key: PublicKey)
    /// Removes every rule (shutdown). Safe when there is none.
    func removeAll()
}

/// No filtering: for tests, and for networks without port rules nothing else is needed.
public final class NoInboundFilter: InboundFiltering {
    public init() {}
    public func welcome(_ peers: [PeerInfo]) {}
    public func joined(_ peer: PeerInfo) {}
    public func left(_ key: PublicKey) {}
    public func removeAll() {}
}

/// Subnet routes (issue 16 item 2; `RouteInstaller` in the real program): installs the peers' approved routes
/// (kernel routes and WireGuard allowed IPs) and forwards the advertised ones; follows presence as the hub reports it.
public protocol RouteInstalling: AnyObject, Sendable {
    /// A welcome: the overlay prefixes are known, every peer's routes replaced, and a table left by a crashed run
    /// replaced or removed.
    func welcome(_ welcome: Welcome)
    /// A peer joined or changed.
    func joined(_ peer: PeerInfo)
    /// A peer's approved routes (from `PeerInfo.routes` once the protocol carries them).
    func setRoutes(_ routes: [SubnetRoute], for peer: PublicKey)
    /// A peer left: its routes are removed.
    func left(_ key: PublicKey)
    /// The routes to add to `peer`'s WireGuard allowed IPs besides its overlay addresses.
    func allowedIPs(for peer: PublicKey) -> [String]
    /// What `riftgate status` shows.
    var status: AgentStatus.Routes { get }
    /// Removes every route, the forwarding table and the forwarding this run turned on (shutdown). Safe when there is
    /// none.
    func removeAll()
}

/// No subnet routes: for tests.
public final class NoRoutes: RouteInstalling {
    public init() {}
    public func welcome(_ welcome: Welcome) {}
    public func joined(_ peer: PeerInfo) {}
    public func setRoutes(_ routes: [SubnetRoute], for peer: PublicKey) {}
    public func left(_ key: PublicKey) {}
    public func allowedIPs(for peer: PublicKey) -> [String] { [] }
    public var status: AgentStatus.Routes { AgentStatus.Routes(advertised: [], accepted: false) }
    public func removeAll() {}
}

/// Registers the network's DNS names with the host (systemd-resolved or the hosts file in the real program,
/// `HostNameRegistration`); follows presence as the hub reports it.
public protocol HostNameRegistering: AnyObject, Sendable {
    /// A welcome: every name replaced (nothing registered when the hub announces no `dns_domain`).
    func welcome(_ welcome: Welcome)
    /// A peer joined, or a known peer changed (a rename): its name added or replaced.
    func joined(_ peer: PeerInfo)
    /// A peer left.
    func left(_ key: PublicKey)
    /// Unregisters everything (at start, what a crashed run left; at shutdown). Safe when nothing is registered.
    func removeAll()
    /// What `riftgate status` shows.
    var status: AgentStatus.Names { get }
}

/// Registers nothing: for tests, and `names = "off"`.
public final class NoHostNames: HostNameRegistering {
    public init() {}
    public func welcome(_ welcome: Welcome) {}
    public func joined(_ peer: PeerInfo) {}
    public func left(_ key: PublicKey) {}
    public func removeAll() {}
    public var status: AgentStatus.Names { AgentStatus.Names(domain: nil, registration: .off) }
}

/// Installs the packet rewriting of port hand-overs (`PortHandover`; nftables in the real program, `HandoverTable`).
public protocol PortHandoverRules: AnyObject, Sendable {
    /// Hands `peer`'s pair over as `handover` says, WireGuard listening on `wireGuardPort`, replacing the peer's earlier
    /// hand-over. Returns false when the rules could not be installed (the runtime forwards the peer instead).
    func install(_ handover: PortHandover, for peer: PublicKey, wireGuardPort: UInt16) -> Bool
    /// Removes `peer`'s rules; nothing when it has none.
    func remove(_ peer: PublicKey)
    /// Removes every rule (startup, after a crashed run; shutdown). Safe when there is none.
    func removeAll()
}

/// No hand-over possible: every reflexive pair is forwarded (tests that do not exercise hand-overs).
public final class NoPortHandover: PortHandoverRules {
    public init() {}
    public func install(_ handover: PortHandover, for peer: PublicKey, wireGuardPort: UInt16) -> Bool { false }
    public func remove(_ peer: PublicKey) {}
    public func removeAll() {}
}

/// Answers DNS queries for the network's names on the agent's overlay addresses (`PeerNameResolver`, a `DNSServer`, in
/// the real program). Follows the hub: started at a welcome that carries a DNS domain, updated as peers join, leave or
/// are renamed, stopped at shutdown.
public protocol PeerNameService: AnyObject, Sendable {
    /// After a welcome: answers for `zone` on `addresses` — starts when not answering there yet (a failure, such as port
    /// 53 taken, is logged as a warning and tried again at the next welcome), else replaces the zone.
    func serve(_ zone: DNSZone, on addresses: [String])
    /// A peer joined, left or was renamed: the zone replaced, when answering.
    func update(_ zone: DNSZone)
    /// Stops answering (shutdown, a hub without DNS names). Idempotent.
    func stop()
    /// Where it answers (`100.64.0.1:53`, `[fd00::1]:53`); empty when it does not.
    var listening: [String] { get }
}

/// No resolver: for tests, and for `dns = false`.
public final class NoPeerNames: PeerNameService {
    public init() {}
    public func serve(_ zone: DNSZone, on addresses: [String]) {}
    public func update(_ zone: DNSZone) {}
    public func stop() {}
    public var listening: [String] { [] }
}

/// Sends path probes through the tunnel (`MeshAction.probePath`; `OverlayPathProbe` in the real program).
public protocol PathProbing: AnyObject, Sendable {
    /// Sends one probe to a peer's overlay address `address`, through the tunnel like any traffic to it. Failures are
    /// ignored: a probe only shortens a silence that is loss, the path's own rules still judge it.
    func probe(_ address: IPv4Address)
}

/// Sends nothing: for tests that do not look at probes.
public final class NoPathProbe: PathProbing {
    public init() {}
    public func probe(_ address: IPv4Address) {}
}

/// Everything the runtime does to the world, in one value.
public struct AgentEnvironment: Sendable {
    /// The hub session.
    public var transport: any SignalingTransport
    /// ICE sessions.
    public var ice: any ICELinkFactory
    /// Opens the WireGuard interface once the first welcome gives it its addresses.
    public var openDevice: @Sendable (InterfaceConfiguration) throws(WireGuardError) -> any WireGuardDevice
    /// Forwarded paths.
    public var forwarder: any PacketForwarder
    /// Time.
    public var clock: any AgentClock
    /// The addresses ICE may gather host candidates on (the real program lists the machine's interfaces).
    public var localAddresses: @Sendable (_ excludingInterface: String, _ overlay: IPv4Prefix?) -> [String]
    /// The access policy's inbound port rules.
    public var inboundFilter: any InboundFiltering
    /// The port hand-overs' packet rewriting.
    public var portHandover: any PortHandoverRules
    /// The resolver for peers' names.
    public var names: any PeerNameService
    /// The names registered with the host.
    public var hostNames: any HostNameRegistering
    /// Subnet routes.
    public var routes: any RouteInstalling
    /// Probes of quiet paths.
    public var pathProbe: any PathProbing

    /// Collects the effects.
    public init(transport: any SignalingTransport, ice: any ICELinkFactory,
                openDevice: @escaping @Sendable (InterfaceConfiguration) throws(WireGuardError) -> any WireGuardDevice,
                forwarder: any PacketForwarder, clock: any AgentClock,
                localAddresses: @escaping @Sendable (String, IPv4Prefix?) -> [String],
                inboundFilter: any InboundFiltering = NoInboundFilter(),
                portHandover: any PortHandoverRules = NoPortHandover(),
                hostNames: any HostNameRegistering = NoHostNames(), names: any PeerNameService = NoPeerNames(),
                routes: any RouteInstalling = NoRoutes(), pathProbe: any PathProbing = NoPathProbe()) {
        self.transport = transport
        self.ice = ice
        self.openDevice = openDevice
        self.forwarder = forwarder
        self.clock = clock
        self.localAddresses = localAddresses
        self.inboundFilter = inboundFilter
        self.portHandover = portHandover
        self.names = names
        self.hostNames = hostNames
        self.routes = routes
        self.pathProbe = pathProbe
    }
}
