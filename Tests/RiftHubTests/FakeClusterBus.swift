import RiftCluster
import RiftHub
import Testing

/// Carries the cluster messages of several `RouterHarness` hubs between them, as NATS would, without NATS: presence and
/// heartbeats to every other hub, a signal to the hub subscribed to its subject, a snapshot to the hub it names.
final class FakeClusterBus {
    private(set) var hubs: [RouterHarness] = []
    /// Hubs whose messages are no longer carried, in either direction (killed, or cut off).
    var silenced: Set<Int> = []
    /// Every message carried, with its subject, in order.
    private(set) var carried: [(message: ClusterMessage, subject: String)] = []
    /// Carries each message twice (NATS never does within one connection; a reconnection or a bug could).
    var duplicates = false
    /// Whether to carry a message (false: lost, as core NATS may lose one around a server's failure).
    var carries: (ClusterMessage, String) -> Bool = { _, _ in true }

    /// Adds a hub (its router configured with a cluster id) and connects it.
    func add(_ hub: RouterHarness) {
        hubs.append(hub)
        hub.setClusterConnected(true)
    }

    /// Delivers what every hub published until nothing is left (bounded: a loop would be a bug).
    func pump() {
        for _ in 0..<100 {
            var moved = false
            for (index, hub) in hubs.enumerated() {
                let outbox = hub.outbox
                hub.outbox = []
                guard !silenced.contains(index) else { continue }
                for (message, subject) in outbox where carries(message, subject) {
                    moved = true
                    carried.append((message, subject))
                    for (other, receiver) in hubs.enumerated() where other != index && !silenced.contains(other) && receives(receiver, subject) {
                        receiver.receive(message)
                        if duplicates { receiver.receive(message) }
                    }
                }
            }
            if !moved { return }
        }
        Issue.record("the fake bus did not settle")
    }

    private func receives(_ hub: RouterHarness, _ subject: String) -> Bool {
        if subject.hasSuffix(".presence") || subject.hasSuffix(".alive") { return true }
        if let id = hub.router.cluster?.hubID {
            return subject == ClusterSubject.sessions(hubID: id) || subject == ClusterSubject.signals(hubID: id)
        }
        return false
    }

    /// `count` hubs sharing one directory (as they share one database: ids `hub-N-0000000N`, distinct wall clocks as
    /// on different machines), joined by a fake bus, and a token for network `home`.
    static func cluster(hubs count: Int = 2, configure: @escaping (inout HubRouterConfiguration) -> Void = { _ in })
        -> (FakeClusterBus, [RouterHarness], token: String) {
        let directory = InMemoryDirectory()
        directory.addNetwork("home")
        let token = directory.addToken(network: "home")
        let bus = FakeClusterBus()
        var hubs: [RouterHarness] = []
        for index in 1...count {
            let hub = RouterHarness(directory: directory) { $0.clusterHubID = "hub-\(index)-0000000\(index)"; configure(&$0) }
            hub.clock.unix += Int64(index)
            bus.add(hub)
            hubs.append(hub)
        }
        bus.pump()
        return (bus, hubs, token)
    }
}
