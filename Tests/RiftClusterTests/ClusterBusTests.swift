import Glibc
import Logging
import RiftCluster
import RiftSupport
import Testing

/// ClusterBus against a real 3-node nats-server cluster on loopback (Support/NATSCluster.swift).
@Suite(.serialized, .enabled(if: NATSCluster.serverPath != nil, NATSCluster.missingReason))
struct ClusterBusTests {
    static let logger = Logger(label: "riftgate.cluster.test")

    /// A bus attached to `urls[0]` first (no randomizing), with quick reconnection for the tests.
    static func connect(
        _ urls: [String], name: String, events: EventRecorder? = nil, sharedThreads: Bool = false,
        pingInterval: Duration? = nil
    ) throws -> ClusterBus {
        var configuration = ClusterBusConfiguration(servers: try ServerList(urls), name: name)
        if let pingInterval { configuration.pingInterval = pingInterval }
        configuration.randomizesServers = false
        configuration.sharesDeliveryThreads = sharedThreads
        configuration.reconnectWait = .milliseconds(250)
        configuration.reconnectJitter = .milliseconds(100)
        return try ClusterBus.connect(configuration, logger: logger, onEvent: events?.handler)
    }

    /// Publishes a probe on `subject` every 100 ms until `ready` holds (interest propagates between nodes
    /// asynchronously), for at most `timeout`; whether it did.
    static func publishUntil(
        _ bus: ClusterBus, _ subject: String, timeout: Duration = .seconds(20), ready: () -> Bool
    ) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try bus.publish(subject, MessageRecorder.probe)
            try bus.flush()
            if ready() { return true }
            usleep(100_000)
        }
        return ready()
    }

    @Test(arguments: [false, true]) func messagesCrossFromOneNodeToAnother(sharedThreads: Bool) throws {
        let cluster = try NATSCluster()
        let publisher = try Self.connect([cluster.nodes[0].url], name: "hub-1")
        let subscriber = try Self.connect([cluster.nodes[1].url], name: "hub-2", sharedThreads: sharedThreads)
        #expect(publisher.connectedServer == cluster.nodes[0].url)
        #expect(subscriber.connectedServer == cluster.nodes[1].url)
        let recorder = MessageRecorder()
        let subscription = try subscriber.subscribe("rift.home.signal.*", handler: recorder.handler)
        try subscriber.flush()
        #expect(try Self.publishUntil(publisher, "rift.home.signal.probe") { recorder.sawProbe })

        for index in 0..<50 { try publisher.publish("rift.home.signal.key\(index % 3)", Array("m\(index)".utf8)) }
        try publisher.publish("rift.other.signal.key0", Array("elsewhere".utf8))  // another network: not for us
        try publisher.flush()
        #expect(recorder.wait(forCount: 50))
        usleep(200_000)  // time for a stray message to show up
        #expect(recorder.texts == (0..<50).map { "m\($0)" })  // one publisher, one subscription: in order, once each
        #expect(recorder.messages.first?.subject == "rift.home.signal.key0")
        #expect(subscription.cancel())
        #expect(publisher.close())
        #expect(subscriber.close())
    }

    @Test func queueGroupDeliversEachMessageToOneMember() throws {
        let cluster = try NATSCluster()
        let publisher = try Self.connect([cluster.nodes[0].url], name: "hub-1")
        let memberA = try Self.connect([cluster.nodes[1].url], name: "hub-2")
        let memberB = try Self.connect([cluster.nodes[2].url], name: "hub-3")
        let (recorderA, recorderB, everyone) = (MessageRecorder(), MessageRecorder(), MessageRecorder())
        _ = try memberA.subscribe("rift.admin.changes", queueGroup: "hubs", handler: recorderA.handler)
        _ = try memberB.subscribe("rift.admin.changes", queueGroup: "hubs", handler: recorderB.handler)
        _ = try memberB.subscribe("rift.admin.changes", handler: everyone.handler)
        try memberA.flush()
        try memberB.flush()
        // Both members' interest has reached the publisher's node once each has had a probe.
        #expect(try Self.publishUntil(publisher, "rift.admin.changes") {
            recorderA.sawProbe && recorderB.sawProbe
        })

        let count = 200
        for index in 0..<count { try publisher.publish("rift.admin.changes", Array("c\(index)".utf8)) }
        try publisher.flush()
        #expect(everyone.wait(forCount: count))
        let grouped = { recorderA.texts + recorderB.texts }
        #expect(waitUntil(timeout: .seconds(20)) { grouped().count >= count })
        usleep(200_000)
        #expect(grouped().count == count)  // each message to exactly one member of the group
        #expect(Set(grouped()) == Set((0..<count).map { "c\($0)" }))
        #expect(!recorderA.texts.isEmpty && !recorderB.texts.isEmpty)  // both members served (2^-199 to fail by chance)
        #expect(everyone.texts.count == count)  // a plain subscriber still gets all
        for bus in [publisher, memberA, memberB] { #expect(bus.close()) }
    }

    @Test func clientOfAKilledNodeReconnectsAndReceivesAgain() throws {
        let cluster = try NATSCluster()
        let urls = cluster.nodes.map(\.url)
        let events = EventRecorder()
        // The subscriber is attached to node 3 (first in its list) and knows the two others.
        let subscriber = try Self.connect([urls[2], urls[0], urls[1]], name: "hub-3", events: events)
        let publisher = try Self.connect([urls[0]], name: "hub-1")
        #expect(subscriber.connectedServer == urls[2])
        let recorder = MessageRecorder()
        _ = try subscriber.subscribe("rift.hub.>", handler: recorder.handler)
        try subscriber.flush()
        #expect(try Self.publishUntil(publisher, "rift.hub.probe") { recorder.sawProbe })

        let killed = ContinuousClock.now
        cluster.kill(2)
        // The publisher keeps publishing numbered heartbeats; the first one to arrive after the kill ends the outage.
        var sequence = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while recorder.messages.isEmpty && ContinuousClock.now < deadline {
            sequence += 1
            try publisher.publish("rift.hub.1.alive", Array("\(sequence)".utf8))
            usleep(20_000)
        }
        let recovered = ContinuousClock.now
        #expect(!recorder.messages.isEmpty, "no message arrived within 30 s of the kill")
        let reconnectedAt = events.first(within: .seconds(5)) { if case .reconnected = $0 { true } else { false } }
        #expect(reconnectedAt != nil)
        #expect(events.all.first == .disconnected)
        #expect(subscriber.connectedServer != nil && subscriber.connectedServer != urls[2])
        print("""
            NATS failover: node killed (SIGKILL) → subscriber reconnected after \
            \(reconnectedAt.map { "\($0 - killed)" } ?? "?"), first message after \(recovered - killed) \
            (\(sequence) published meanwhile, \(recorder.messages.count) received)
            """)

        // Everything published after the reconnection arrives, once and in order.
        try subscriber.flush()
        usleep(300_000)
        recorder.removeAll()
        for index in 0..<20 { try publisher.publish("rift.hub.1.alive", Array("after\(index)".utf8)) }
        try publisher.flush()
        let after = { recorder.texts.filter { $0.hasPrefix("after") } }  // a late heartbeat may still come in
        #expect(waitUntil(timeout: .seconds(20)) { after().count >= 20 })
        #expect(after() == (0..<20).map { "after\($0)" })
        #expect(subscriber.close())
        #expect(publisher.close())
        #expect(events.all.filter { $0 == .closed }.count == 1)
    }

    @Test func manySubscriptionsOnSharedDeliveryThreadsEachGetTheirOwn() throws {
        // The hub's pattern: one subscription per connected peer's signal subject, on libnats' shared delivery pool.
        let cluster = try NATSCluster(count: 1)
        let url = cluster.nodes[0].url
        let hub = try Self.connect([url], name: "hub-1", sharedThreads: true)
        let publisher = try Self.connect([url], name: "hub-2")
        let recorders = (0..<200).map { _ in MessageRecorder() }
        var subscriptions = try recorders.indices.map { index in
            try hub.subscribe("rift.home.signal.peer\(index)", handler: recorders[index].handler)
        }
        try hub.flush()
        for round in 0..<3 {
            for index in recorders.indices { try publisher.publish("rift.home.signal.peer\(index)", Array("\(index).\(round)".utf8)) }
        }
        try publisher.flush()
        #expect(waitUntil(timeout: .seconds(20)) { recorders.allSatisfy { $0.messages.count >= 3 } })
        for (index, recorder) in recorders.enumerated() {
            #expect(recorder.texts == (0..<3).map { "\(index).\($0)" })  // its own messages only, in order
        }
        // A cancelled subscription gets nothing more; the others still do.
        #expect(hub.subscriptionCount == 200)
        #expect(subscriptions[0].cancel())
        subscriptions.removeFirst()
        #expect(hub.subscriptionCount == 199)  // a cancelled subscription is not kept
        try publisher.publish("rift.home.signal.peer0", Array("late".utf8))
        try publisher.publish("rift.home.signal.peer1", Array("late".utf8))
        try publisher.flush()
        #expect(recorders[1].wait(forCount: 4))
        usleep(200_000)
        #expect(recorders[0].messages.count == 3)
        #expect(hub.close())
        #expect(publisher.close())
    }

    @Test func publisherOnAKilledNodeDeliversAgainAfterReconnecting() throws {
        let cluster = try NATSCluster()
        let urls = cluster.nodes.map(\.url)
        let events = EventRecorder()
        let publisher = try Self.connect([urls[2], urls[1]], name: "hub-3", events: events)
        let subscriber = try Self.connect([urls[0]], name: "hub-1")
        let recorder = MessageRecorder()
        _ = try subscriber.subscribe("rift.home.presence", handler: recorder.handler)
        try subscriber.flush()
        #expect(try Self.publishUntil(publisher, "rift.home.presence") { recorder.sawProbe })

        let killed = ContinuousClock.now
        cluster.kill(2)
        #expect(events.first(within: .seconds(30)) { if case .reconnected = $0 { true } else { false } } != nil)
        print("NATS failover: publisher's node killed → publisher reconnected after \(ContinuousClock.now - killed)")
        #expect(publisher.connectedServer == urls[1])
        for index in 0..<20 { try publisher.publish("rift.home.presence", Array("p\(index)".utf8)) }
        try publisher.flush()
        #expect(recorder.wait(forCount: 20))
        #expect(recorder.texts == (0..<20).map { "p\($0)" })
        #expect(publisher.close())
        #expect(subscriber.close())
    }

    @Test func aFrozenNodeIsLeftAfterUnansweredPings() throws {
        // SIGSTOP: the node's sockets stay open but nothing answers, as across a partition. Only pings can tell.
        let cluster = try NATSCluster()
        let urls = cluster.nodes.map(\.url)
        let events = EventRecorder()
        let subscriber = try Self.connect(
            [urls[2], urls[0], urls[1]], name: "hub-3", events: events, pingInterval: .seconds(1))
        let publisher = try Self.connect([urls[0]], name: "hub-1")
        let recorder = MessageRecorder()
        _ = try subscriber.subscribe("rift.home.signal.*", handler: recorder.handler)
        try subscriber.flush()
        #expect(try Self.publishUntil(publisher, "rift.home.signal.probe") { recorder.sawProbe })

        let frozen = ContinuousClock.now
        cluster.nodes[2].process.send(SIGSTOP)
        defer { cluster.nodes[2].process.send(SIGCONT) }
        let reconnected = events.first(within: .seconds(30)) { if case .reconnected = $0 { true } else { false } }
        #expect(reconnected != nil, "the subscriber did not leave the frozen node within 30 s")
        #expect(events.all.first == .disconnected)
        let after = reconnected.map { "\($0 - frozen)" } ?? "?"
        print("NATS failover: node frozen (SIGSTOP) → subscriber reconnected after \(after) (pings every 1 s, 2 outstanding)")
        let probes = recorder.probeCount
        #expect(try Self.publishUntil(publisher, "rift.home.signal.probe") { recorder.probeCount > probes })
        try publisher.publish("rift.home.signal.key", Array("after".utf8))
        try publisher.flush()
        #expect(recorder.wait(forCount: 1))
        #expect(recorder.texts == ["after"])
        #expect(subscriber.close())
        #expect(publisher.close())
    }

    @Test func closeWaitsForRunningHandlersAndStopsDelivery() throws {
        let cluster = try NATSCluster(count: 1)
        let url = cluster.nodes[0].url
        let events = EventRecorder()
        let bus = try Self.connect([url], name: "hub-1", events: events)
        let publisher = try Self.connect([url], name: "hub-2")
        let calls = Locked((started: 0, finished: 0))
        let slow: @Sendable (ClusterBusMessage) -> Void = { _ in
            calls.withLock { $0.started += 1 }
            usleep(2_000)  // a handler still running when close() is called
            calls.withLock { $0.finished += 1 }
        }
        _ = try bus.subscribe("rift.load", handler: slow)
        _ = try bus.subscribe("rift.load", queueGroup: "hubs", handler: slow)
        try bus.flush()
        for index in 0..<2000 { try publisher.publish("rift.load", Array("\(index)".utf8)) }
        try publisher.flush()
        let deadline = ContinuousClock.now + .seconds(20)
        while calls.withLock({ $0.started }) < 10 && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(calls.withLock { $0.started } >= 10)

        #expect(bus.close())
        let atClose = calls.withLock { $0 }
        #expect(atClose.started == atClose.finished)  // no handler is mid-way once close() returned
        for index in 0..<100 { try publisher.publish("rift.load", Array("late\(index)".utf8)) }
        try publisher.flush()
        usleep(300_000)
        #expect(calls.withLock { $0.started } == atClose.started)  // nothing delivered after close()
        #expect(events.all == [.closed])  // the closing's own disconnection is not an event
        #expect(bus.close())  // a second close is harmless
        #expect(throws: ClusterBusError.self) { try bus.publish("rift.load", [1]) }
        #expect(publisher.close())
    }
}
