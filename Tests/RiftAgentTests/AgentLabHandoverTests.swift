import RiftAgent
import RiftProtocol
import RiftSupport
import RiftTestSupport
import RiftWireGuard
import Testing

/// The mesh's port hand-over decisions, with whole agents in the lab (fake ICE with NATs, fake nftables).
@Suite("Agents in the lab: port hand-over")
struct AgentLabHandoverTests {
    /// Two agents, each behind its own NAT (public addresses 198.51.100.1 and .2); started but not yet connected.
    func nattedPair(turn: Bool = false) throws -> AgentLab {
        let lab = AgentLab(turn: turn)
        lab.ice.putBehindNAT("10.0.1.2", publicAddress: "198.51.100.1")
        lab.ice.putBehindNAT("10.0.2.2", publicAddress: "198.51.100.2")
        try lab.start("a", host: "10.0.1.2", seed: 1)
        try lab.start("b", host: "10.0.2.2", seed: 2)
        return lab
    }

    @Test("a server-reflexive pair: WireGuard sends to the remote mapped address, its port handed over, nothing forwarded")
    func reflexivePairHandedOver() throws {
        let lab = try nattedPair()
        lab.advance(by: 2_000)
        let (a, b) = (lab.agents["a"]!, lab.agents["b"]!)
        for (me, other) in [(a, b), (b, a)] {
            let peer = try #require(lab.peerStatus(me.name, of: other.name))
            #expect(peer.state == .connected && peer.pathType == .serverReflexive && peer.pathMode == .handedOver, "\(peer)")
            #expect(peer.pathReason.contains("hand-over"))
            let handover = try #require(me.handover.installed[other.key])
            let localCandidate = try #require(peer.localCandidate)
            let remoteCandidate = try #require(peer.remoteCandidate)
            #expect(handover.local.address == me.host, "the base is the host socket behind the NAT")
            #expect(remoteCandidate == "srflx \(handover.remote)")
            #expect(localCandidate.hasPrefix("srflx 198.51.100."))
            #expect(me.handover.wireGuardPort(of: other.key) == 51_820)
            let configured = try #require(lab.device(me.name)?.peers[other.key])
            #expect(configured.endpoint?.description == handover.remote.description, "not the loopback forwarder")
            #expect(me.forwarder.instances.isEmpty, "a handed-over path forwards nothing")
            #expect(me.forwarder.watchedInstances.count == 1, "only a gated standby socket (HandoverBypassWatch)")
        }
    }

    @Test("a relayed pair is forwarded and installs no hand-over")
    func relayForwarded() throws {
        let lab = try nattedPair(turn: true)
        lab.ice.cut("10.0.1.2", "10.0.2.2")  // ICE finds only the relay; WireGuard over the forwarder still works
        lab.advance(by: 2_000)
        let (a, b) = (lab.agents["a"]!, lab.agents["b"]!)
        for (me, other) in [(a, b), (b, a)] {
            let peer = try #require(lab.peerStatus(me.name, of: other.name))
            #expect(peer.state == .connected && peer.pathType == .relayed && peer.pathMode == .forwarded, "\(peer)")
            #expect(me.handover.installed.isEmpty)
            #expect(!me.forwarder.instances.isEmpty)
        }
    }

    @Test("a hand-over without WireGuard traffic falls back to forwarding, says why, removes its rules and stays there")
    func fallbackWithoutHandshake() throws {
        let lab = try nattedPair()
        lab.wireguard.cut("10.0.1.2", "10.0.2.2")  // ICE's checks pass, WireGuard's rewritten datagrams do not
        lab.advance(by: 2_000)
        for (me, other) in [("a", "b"), ("b", "a")] {
            let peer = try #require(lab.peerStatus(me, of: other))
            #expect(peer.pathMode == .handedOver && peer.state != .connected, "tried first: \(peer)")
        }
        lab.advance(by: 10_000)
        // The side that gives up first forwards; its WireGuard packets then reach the other side through its ICE socket,
        // which hands them to WireGuard (mixed modes work), so the other side may keep its hand-over.
        let fellBack = ["a", "b"].filter { lab.peerStatus($0, of: $0 == "a" ? "b" : "a")?.pathMode == .forwarded }
        #expect(!fellBack.isEmpty)
        for (me, other) in [("a", "b"), ("b", "a")] {
            let peer = try #require(lab.peerStatus(me, of: other))
            let agent = lab.agents[me]!
            #expect(peer.state == .connected && peer.pathType == .serverReflexive, "\(peer)")
            if peer.pathMode == .forwarded {
                #expect(peer.pathReason.contains("hand-over") && peer.pathReason.contains("no WireGuard traffic"), "\(peer.pathReason)")
                #expect(agent.handover.installed.isEmpty, "the failed hand-over's rules are removed")
                #expect(!agent.forwarder.instances.isEmpty)
            } else {
                #expect(peer.pathMode == .handedOver && agent.handover.installed[lab.agents[other]!.key] != nil)
            }
        }
        lab.wireguard.restore("10.0.1.2", "10.0.2.2")
        lab.advance(by: 60_000, step: 1_000)
        for name in fellBack {
            let other = name == "a" ? "b" : "a"
            #expect(lab.peerStatus(name, of: other)?.pathMode == .forwarded, "no flapping back to the hand-over")
            #expect(lab.agents[name]!.handover.installed.isEmpty)
        }
    }

    @Test("make before break: a hand-over's rules are removed only once WireGuard points at the forwarding socket")
    func rulesOutliveTheEndpoint() throws {
        let lab = try nattedPair()
        lab.wireguard.cut("10.0.1.2", "10.0.2.2")  // the hand-overs carry nothing, so they fall back to forwarding
        let seen = Locked<[String: String]>([:])
        for me in ["a", "b"] {
            let (wireguard, key) = (lab.wireguard, lab.agents[me]!.key)
            lab.agents[me]!.handover.onRemove = { peer in
                seen.withLock { $0[me] = wireguard.device(key)?.peers[peer]?.endpoint?.description ?? "none" }
            }
        }
        lab.advance(by: 12_000)
        let fellBack = ["a", "b"].filter { lab.peerStatus($0, of: $0 == "a" ? "b" : "a")?.pathMode == .forwarded }
        #expect(!fellBack.isEmpty)
        for name in fellBack {
            let endpoint = try #require(seen.withLock { $0[name] }, "\(name) removed its rules")
            #expect(endpoint.hasPrefix("127.0.0.1:"), "\(name): WireGuard still sent to \(endpoint) when the rules went")
        }
    }

    @Test("when the rules cannot be installed the pair is forwarded at once")
    func refusedRules() throws {
        let lab = AgentLab()
        lab.ice.putBehindNAT("10.0.1.2", publicAddress: "198.51.100.1")
        let a = try lab.start("a", host: "10.0.1.2", seed: 1)
        a.handover.refuse = true
        try lab.start("b", host: "10.0.2.2", seed: 2)
        lab.advance(by: 2_000)
        let peer = try #require(lab.peerStatus("a", of: "b"))
        #expect(peer.pathMode == .forwarded && peer.state == .connected, "\(peer)")
        #expect(peer.pathReason.contains("unavailable"))
        // The other side (host candidate against a's reflexive one) hands over on its own: mixed modes work together.
        #expect(lab.peerStatus("b", of: "a")?.pathMode == .handedOver)
    }

    @Test("rules are removed at startup (a crashed run's), when the peer leaves, and on shutdown")
    func removal() throws {
        let lab = try nattedPair()
        lab.advance(by: 2_000)
        let (a, b) = (lab.agents["a"]!, lab.agents["b"]!)
        #expect(a.handover.removeAllCount == 1, "startup removes a table a crashed run left")
        #expect(a.handover.installed[b.key] != nil)
        b.core.requestStop(reason: "test")
        b.core.runReady()
        b.core.shutdown()
        #expect(b.handover.installed.isEmpty && b.handover.removeAllCount == 2)
        lab.advance(by: 1_000)
        #expect(a.handover.installed[b.key] != nil, "the peer left the hub, but the tunnel is judged by its traffic")
        lab.advance(by: 3_000)
        #expect(a.handover.installed[b.key] == nil, "the peer left and its path went quiet")
    }
}
