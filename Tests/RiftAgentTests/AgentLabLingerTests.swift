import RiftAgent
import RiftProtocol
import RiftTestSupport
import RiftWireGuard
import Testing

/// Leaving a forwarded path: the forwarding socket (and the retired ICE session) stays open a moment for what the
/// peer still sends over the old pair, and WireGuard is pointed back at the new path if it followed such a datagram.
@Suite("Agents in the lab: a released forwarding socket lingers")
struct AgentLabLingerTests {
    /// Two agents relayed through TURN (the direct path cut), then the direct path restored and advanced until `a`
    /// is back on it; returns the lab and the forwarded ICE session `a` had.
    private func backOffTheRelay() throws -> (AgentLab, UInt64) {
        let lab = AgentLab(turn: true)
        try lab.start("a", host: "192.0.2.1", seed: 1)
        try lab.start("b", host: "192.0.2.2", seed: 2)
        lab.cutDirectPath("a", "b")
        lab.advance(by: 2_000)
        #expect(lab.peerStatus("a", of: "b")?.pathMode == .forwarded)
        let relayed = try #require(lab.agents["a"]!.forwarder.instances.first)
        lab.restoreDirectPath("a", "b")
        var waited: Int64 = 0
        while lab.peerStatus("a", of: "b")?.pathMode != .direct, waited < 120_000 {
            lab.advance(by: 50, step: 50)
            waited += 50
        }
        #expect(lab.peerStatus("a", of: "b")?.pathMode == .direct, "back on the direct path within 120 s")
        return (lab, relayed)
    }

    @Test("back on a direct path, the old forwarding socket stays open for 3 s, then goes")
    func socketLingers() throws {
        let (lab, relayed) = try backOffTheRelay()
        let a = lab.agents["a"]!
        #expect(a.forwarder.instances == [relayed], "the relayed session's socket still carries what the peer sends")
        lab.advance(by: AgentCore.lingerMilliseconds - 500, step: 50)
        #expect(a.forwarder.instances == [relayed])
        lab.advance(by: 600, step: 50)
        #expect(a.forwarder.instances.isEmpty, "released once the linger is over")
        #expect(lab.peerStatus("a", of: "b")?.pathMode == .direct)
    }

    @Test("when WireGuard followed a late datagram to the lingering socket, it is pointed back at the direct path")
    func endpointPointedBack() throws {
        let (lab, relayed) = try backOffTheRelay()
        let (a, b) = (lab.agents["a"]!, lab.agents["b"]!)
        let device = try #require(lab.device("a"))
        let direct = try #require(device.peers[b.key]?.endpoint)
        #expect(direct.description == "192.0.2.2:51820")
        // The peer's last datagram over the relay arrived after its first direct one: WireGuard roams to loopback.
        let loopback = try #require(WireGuardEndpoint(address: "127.0.0.1", port: UInt16(30_000 + relayed % 30_000)))
        device.roam(b.key, to: loopback)
        lab.advance(by: AgentCore.lingerMilliseconds + 100, step: 50)
        #expect(a.forwarder.instances.isEmpty)
        #expect(device.peers[b.key]?.endpoint == direct, "WireGuard sends to the direct path again, not to a closed socket")
    }

    @Test("a WireGuard endpoint that did not roam is left alone when the linger ends")
    func endpointLeftAlone() throws {
        let (lab, _) = try backOffTheRelay()
        let b = lab.agents["b"]!
        let device = try #require(lab.device("a"))
        let sets = device.history.count
        lab.advance(by: AgentCore.lingerMilliseconds + 100, step: 50)
        #expect(device.history.dropFirst(sets).allSatisfy { $0.endpoint == nil }, "no endpoint set after the linger")
        #expect(device.peers[b.key]?.endpoint?.description == "192.0.2.2:51820")
    }
}
