import Logging
import RiftCluster
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// Drives a `HubRouter<Int>` with an in-memory directory and a manual clock, recording what it sends.
final class RouterHarness {
    var router: HubRouter<Int>
    let directory: InMemoryDirectory
    let clock: ManualClock
    let hubKey: PrivateKey
    private var nextConnection = 1
    /// Every message sent per connection, not yet taken by `take`.
    private var inbox: [Int: [HubMessage]] = [:]
    /// Close codes per closed connection.
    private(set) var closeCodes: [Int: UInt16] = [:]
    /// Every action, in order.
    private(set) var log: [HubAction<Int>] = []
    /// Cluster messages published and not yet taken by `FakeClusterBus`, with their subjects.
    var outbox: [(message: ClusterMessage, subject: String)] = []
    /// The hub's cache of peer object texts, fed every message sent, as the socket handler does (a small capacity,
    /// so that starting over is exercised too).
    private var peerTexts = PeerObjectTexts(capacity: 8)

    init(directory: InMemoryDirectory = InMemoryDirectory(), configure: (inout HubRouterConfiguration) -> Void = { _ in }) {
        let clock = ManualClock()
        let hubKey = PrivateKey.generate()
        var configuration = HubRouterConfiguration(hubKey: hubKey, ice: ICEServerPolicy(stunPort: 3478, publicHost: "hub.example"))
        configure(&configuration)
        self.clock = clock
        self.directory = directory
        self.hubKey = hubKey
        self.router = HubRouter(configuration: configuration, directory: directory, clock: clock,
                                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// When true, proof checks the router asks for wait in `pendingProofChecks` until `checkPendingProofs`; when false
    /// (the default) each is checked and its verdict handed back right after the actions that asked for it.
    var holdsProofChecks = false
    /// Proof checks asked for and not yet checked (with `holdsProofChecks`).
    var pendingProofChecks: [ProofCheck<Int>] = []

    func perform(_ actions: [HubAction<Int>]) {
        log += actions
        var checks: [ProofCheck<Int>] = []
        defer {
            pendingProofChecks += checks
            if !holdsProofChecks { checkPendingProofs() }
        }
        for action in actions {
            switch action {
            case .send(let message, let connection):
                // Round-trip through the wire format, as an agent would see it.
                let decoded = try! HubMessage.decode(message.encoded())
                #expect(decoded == message)
                // The cached peer texts never differ from a fresh encoding (renames, routes, policy changes, rejoins).
                #expect(peerTexts.encode(message) == message.encoded())
                inbox[connection, default: []].append(decoded)
            case .close(let connection, let code, _):
                closeCodes[connection] = code
            case .publish(let message, let subject):
                // Round-trip through the bus encoding, as another hub would see it.
                let decoded = try! ClusterMessage.decode(message.encoded)
                #expect(decoded == message)
                outbox.append((decoded, subject))
            case .checkProof(let check):
                checks.append(check)
            }
        }
    }

    /// Checks the pending proofs, in order, and hands each verdict to the router (as the hub's proof-check thread does).
    func checkPendingProofs() {
        let checks = pendingProofChecks
        pendingProofChecks = []
        for check in checks { perform(router.proofChecked(check.verify(hubKey: hubKey))) }
    }

    /// Opens a connection with the given request fields and returns its id.
    func open(path: String, authorization: String?, remote: String = "192.0.2.1", host: String? = "hub.example:8443") -> Int {
        let connection = nextConnection
        nextConnection += 1
        perform(router.connectionOpened(connection, request: ConnectionRequest(path: path, authorization: authorization, host: host, remoteAddress: remote)))
        return connection
    }

    /// Opens a connection to `network` with `token`.
    func open(network: String, token: String, remote: String = "192.0.2.1") -> Int {
        open(path: "/v1/networks/\(network)", authorization: "Bearer \(token)", remote: remote)
    }

    /// The messages sent to `connection` since the last call.
    func take(_ connection: Int) -> [HubMessage] {
        defer { inbox[connection] = [] }
        return inbox[connection] ?? []
    }

    /// Sends a text frame.
    func send(_ connection: Int, text: String) { perform(router.connection(connection, received: text)) }

    /// Sends a client message.
    func send(_ connection: Int, _ message: ClientMessage) { send(connection, text: message.encoded()) }

    /// The challenge sent on `connection` (taking its messages).
    func challenge(_ connection: Int) -> Challenge? {
        for message in take(connection) { if case .challenge(let challenge) = message { return challenge } }
        return nil
    }

    /// A hello answering `challenge` for `key` in `network`.
    func hello(_ challenge: Challenge, network: String, key: PrivateKey, name: String, id: String? = nil,
               version: Int64 = ProtocolVersion.v1, routes: [SubnetRoute]? = nil, exitNode: Bool? = nil) -> ClientMessage {
        .hello(Hello(version: version, publicKey: key.publicKey, name: name,
                     proof: try! PossessionProof.make(challenge: challenge, network: network, key: key), id: id,
                     advertiseRoutes: routes, advertiseExitNode: exitNode))
    }

    /// Opens, proves `key` and returns the connection and its welcome (nil when refused).
    func join(network: String, token: String, key: PrivateKey, name: String = "node", remote: String = "192.0.2.1",
              version: Int64 = ProtocolVersion.v1, routes: [SubnetRoute]? = nil, exitNode: Bool? = nil) -> (Int, Welcome?) {
        let (connection, messages) = joinMessages(network: network, token: token, key: key, name: name, remote: remote,
                                                  version: version, routes: routes, exitNode: exitNode)
        return (connection, messages.compactMap { if case .welcome(let welcome) = $0 { welcome } else { nil } }.first)
    }

    /// Joins like `join`, and returns every message the hub sent after the hello (the welcome first).
    func joinMessages(network: String, token: String, key: PrivateKey, name: String = "node", remote: String = "192.0.2.1",
                      version: Int64 = ProtocolVersion.v1, routes: [SubnetRoute]? = nil,
                      exitNode: Bool? = nil) -> (connection: Int, messages: [HubMessage]) {
        let connection = open(network: network, token: token, remote: remote)
        guard let challenge = challenge(connection) else { return (connection, []) }
        send(connection, hello(challenge, network: network, key: key, name: name, version: version, routes: routes, exitNode: exitNode))
        return (connection, take(connection))
    }

    func close(_ connection: Int, cause: DisconnectCause = .closed) { perform(router.connectionClosed(connection, cause: cause)) }

    func tick() { perform(router.tick()) }

    /// Hands the router a message from the bus.
    func receive(_ message: ClusterMessage) { perform(router.clusterReceived(message)) }

    /// Tells the router its bus is connected (or not).
    func setClusterConnected(_ connected: Bool) { perform(router.clusterConnectivityChanged(connected: connected)) }

    /// A sealed box with arbitrary content: the hub never opens it.
    static func box(_ seed: UInt8 = 7) -> SealedBox {
        SealedBox(nonce: [UInt8](repeating: seed, count: 24), ciphertext: [UInt8](repeating: seed &+ 1, count: 40))
    }
}

/// The error codes among `messages`.
func errorCodes(_ messages: [HubMessage]) -> [String] {
    messages.compactMap { if case .error(let frame) = $0 { frame.code } else { nil } }
}
