import Foundation
import Logging
import RiftAgent
import RiftCrypto
import RiftProtocol
import RiftWireGuard

/// Whole agents (`AgentCore` with every effect faked) around one in-memory hub, on one manual clock, run on the
/// test's thread: `settle()` handles every event until all agents are idle, `advance(by:)` moves time in steps.
/// No root, no sockets, no threads.
public final class AgentLab {
    /// One agent of the lab.
    public struct Agent {
        /// Its name.
        public let name: String
        /// Its machine's address (host candidates and direct paths).
        public let host: String
        /// Its key.
        public let privateKey: PrivateKey
        /// Its forwarding (which ICE sessions carry WireGuard's packets).
        public let forwarder: FakeForwarder
        /// Its port hand-overs' rules.
        public let handover: FakePortHandover
        /// Its subnet routes (kept across restarts).
        public let routes: any RouteInstalling
        /// The running core.
        public internal(set) var core: AgentCore
        /// The public key.
        public var key: PublicKey { privateKey.publicKey }
    }

    public let clock = ManualClock()
    public let hub: FakeHub
    public let ice = FakeICENetwork()
    public let wireguard: FakeWireGuardNetwork
    public private(set) var agents: [String: Agent] = [:]

    /// A lab whose hub hands out a TURN server when `turn` is set.
    public init(turn: Bool = false) {
        hub = FakeHub(turn: turn)
        wireguard = FakeWireGuardNetwork(clock: clock)
    }

    /// Starts an agent named `name` on a machine at `host`, with the key derived from `seed` (the smaller key controls).
    @discardableResult
    public func start(_ name: String, host: String, seed: UInt8, routes: any RouteInstalling = NoRoutes()) throws -> Agent {
        let privateKey = try PrivateKey(base64: Data(repeating: seed, count: 32).base64EncodedString())
        let forwarder = FakeForwarder()
        let handover = FakePortHandover()
        let agent = Agent(name: name, host: host, privateKey: privateKey, forwarder: forwarder, handover: handover, routes: routes,
                          core: makeCore(name, host: host, key: privateKey, forwarder: forwarder, handover: handover, routes: routes))
        agent.core.start()
        agents[name] = agent
        return agent
    }

    /// Stops `name` (`riftgate down`: it leaves the hub and removes its interface) and starts it again with the same key.
    public func restart(_ name: String) {
        guard var agent = agents[name] else { return }
        agent.core.requestStop(reason: "test restart")
        agent.core.runReady()
        agent.core.shutdown()
        settle()
        agent.core = makeCore(name, host: agent.host, key: agent.privateKey, forwarder: agent.forwarder,
                              handover: agent.handover, routes: agent.routes)
        agent.core.start()
        agents[name] = agent
    }

    /// Cores made so far (each agent's start and every restart), for unique session ids.
    private var coresMade = 0

    private func makeCore(_ name: String, host: String, key: PrivateKey, forwarder: FakeForwarder,
                          handover: FakePortHandover, routes: any RouteInstalling) -> AgentCore {
        let publicKey = key.publicKey
        let environment = AgentEnvironment(
            transport: hub.transport(for: publicKey, name: name), ice: ice.factory(host: host),
            openDevice: { [wireguard] settings in wireguard.open(key: publicKey, host: host, configuration: settings) },
            forwarder: forwarder, clock: clock, localAddresses: { _, _ in [host] }, portHandover: handover,
            routes: routes)
        var configuration = AgentConfiguration(hub: "wss://hub.test", network: "lab", name: name, secretsFile: "/nonexistent",
                                               controlSocket: "/nonexistent")
        configuration.interface = "rg-\(name)"
        let counter = SessionCounter()
        // Like the random ids of a real run: a restarted agent's sessions never repeat its previous run's ids.
        coresMade += 1
        let run = coresMade
        return AgentCore(configuration: configuration, secrets: AgentSecrets(privateKey: key, token: BearerToken.generate()),
                         environment: environment, logger: Logger(label: "lab.\(name)", factory: { _ in SwiftLogNoOpLogHandler() }),
                         sessionID: { "\(name)-\(run)-\(counter.next())" })
    }

    /// Handles events until no agent has any left (at most `rounds` passes).
    public func settle(rounds: Int = 1_000) {
        for _ in 0..<rounds {
            var handled = 0
            for name in agents.keys.sorted() { handled += agents[name]!.core.runReady() }
            if handled == 0 { return }
        }
    }

    /// Moves the clock forward by `milliseconds` in steps of `step`, settling after each.
    public func advance(by milliseconds: Int64, step: Int64 = 250) {
        var left = milliseconds
        settle()
        while left > 0 {
            let move = min(step, left)
            clock.advance(by: move)
            left -= move
            settle()
        }
    }

    /// What `name` reports about `peer`.
    public func peerStatus(_ name: String, of peer: String) -> AgentStatus.Peer? {
        agents[name]?.core.status.peers.first { $0.name == peer }
    }

    /// The WireGuard device of `name`.
    public func device(_ name: String) -> FakeWireGuardDevice? { agents[name].flatMap { wireguard.device($0.key) } }

    /// Cuts direct traffic (ICE host pairs and direct WireGuard) between two agents' machines. With `consentLost: false`
    /// the ICE sessions on the cut pair keep saying `ready`, as libnice's do for the 10 s its consent check takes.
    public func cutDirectPath(_ a: String, _ b: String, consentLost: Bool = true) {
        guard let hostA = agents[a]?.host, let hostB = agents[b]?.host else { return }
        wireguard.cut(hostA, hostB)
        ice.cut(hostA, hostB, consentLost: consentLost)
    }

    /// Lets direct traffic between two agents' machines through again.
    public func restoreDirectPath(_ a: String, _ b: String) {
        guard let hostA = agents[a]?.host, let hostB = agents[b]?.host else { return }
        wireguard.restore(hostA, hostB)
        ice.restore(hostA, hostB)
    }
}

/// Deterministic session ids.
private final class SessionCounter: @unchecked Sendable {
    // @unchecked: used only from the lab's thread (the mesh calls it while handling an event).
    private var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}
