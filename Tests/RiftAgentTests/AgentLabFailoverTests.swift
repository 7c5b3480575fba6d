import RiftAgent
import RiftProtocol
import RiftTestSupport
import RiftWireGuard
import Testing

/// Failover (issue 12 item 3) with whole agents: a path that stops delivering is left for the relay seconds before
/// ICE consent would notice, a silent tunnel is left alone, and the tunnel comes back to the direct path without a gap.
@Suite("Failover in the lab")
struct AgentLabFailoverTests {
    func connectedPair(turn: Bool) throws -> AgentLab {
        let lab = AgentLab(turn: turn)
        try lab.start("a", host: "192.0.2.1", seed: 1)
        try lab.start("b", host: "192.0.2.2", seed: 2)
        lab.advance(by: 2_000)
        for (me, other) in [("a", "b"), ("b", "a")] {
            let peer = try #require(lab.peerStatus(me, of: other))
            try #require(peer.state == .connected && peer.pathType == .host && peer.pathMode == .direct, "\(peer)")
        }
        return lab
    }

    /// Advances in 250 ms steps until `done` holds, at most `limit` ms of lab time; returns the lab time it took.
    func advance(_ lab: AgentLab, until done: () -> Bool, limit: Int64) -> Int64? {
        var elapsed: Int64 = 0
        while elapsed < limit {
            if done() { return elapsed }
            lab.advance(by: 250)
            elapsed += 250
        }
        return done() ? elapsed : nil
    }

    func onRelay(_ lab: AgentLab, _ me: String, _ other: String) -> Bool {
        guard let peer = lab.peerStatus(me, of: other) else { return false }
        return peer.state == .connected && peer.pathType == .relayed && peer.pathMode == .forwarded
    }

    @Test("a direct path that stops delivering moves to the relay within seconds, while ICE still says ready")
    func silentCutMovesToRelay() throws {
        let lab = try connectedPair(turn: true)
        // ICE keeps its pair "ready" (consent would take 10 s): only WireGuard's counters show the cut.
        lab.cutDirectPath("a", "b", consentLost: false)
        let took = advance(lab, until: { onRelay(lab, "a", "b") && onRelay(lab, "b", "a") }, limit: 8_000)
        let tookMilliseconds = try #require(took, "still not on the relay 8 s after the cut: \(String(describing: lab.peerStatus("a", of: "b")))")
        // Lab time, not wall-clock time: the fake's counters advance both ways on every read, so 500 ms of silence
        // (two reads) is suspected and the relay-only generation negotiated beside the path takes over.
        #expect(tookMilliseconds <= 1_500, "took \(tookMilliseconds) ms of lab time")
        let reasons = [lab.peerStatus("a", of: "b"), lab.peerStatus("b", of: "a")].compactMap { $0?.lastRecoveryReason }
        #expect(reasons.contains { $0.contains("received nothing") }, "\(reasons)")
        // The relay, once in use, is not itself taken for dead: keepalives arrive over it. Within 12 s the only new
        // generation is the one early try off a relay prepared on suspicion, 5 s after the move (one session on each
        // side); with the cut still in place and no relay of the controlling side in it (PeerSession+Upgrade), it
        // finds no pair and the relayed session stays. (The next try is due 15 to 30 s later.)
        let sessions = lab.ice.sessionsCreated
        lab.advance(by: 12_000)
        #expect(onRelay(lab, "a", "b") && onRelay(lab, "b", "a"))
        #expect(lab.ice.sessionsCreated == sessions + 2, "only the early try renegotiated on a working relay")
    }

    @Test("when the direct path comes back, the tunnel returns to it with no moment without a working path")
    func returnsToDirectWithoutGap() throws {
        let lab = try connectedPair(turn: true)
        lab.cutDirectPath("a", "b", consentLost: false)
        _ = advance(lab, until: { onRelay(lab, "a", "b") && onRelay(lab, "b", "a") }, limit: 8_000)
        try #require(onRelay(lab, "a", "b"))
        lab.restoreDirectPath("a", "b")
        var back = false
        for _ in 0..<(400 * 4) {  // up to 400 s of lab time: the upgrade backoff starts at 30 s
            lab.advance(by: 250)
            for (me, other) in [("a", "b"), ("b", "a")] {
                let peer = try #require(lab.peerStatus(me, of: other))
                #expect(peer.state == .connected, "\(me) -> \(other) lost its tunnel on the way back: \(peer)")
                #expect(lab.device(me)?.peers[lab.agents[other]!.key]?.endpoint != nil)
            }
            let direct = ["a", "b"].allSatisfy { me in
                lab.peerStatus(me, of: me == "a" ? "b" : "a").map { $0.pathType == .host && $0.pathMode == .direct } ?? false
            }
            if direct {
                back = true
                break
            }
        }
        #expect(back, "the tunnel did not return to the direct path")
    }

    @Test("a tunnel that carries no traffic is not taken for dead, and a cut without TURN is retried on every pair")
    func silentTunnelIsNotDead() throws {
        let lab = try connectedPair(turn: true)
        let sessions = lab.ice.sessionsCreated
        lab.advance(by: 60_000)
        #expect(lab.ice.sessionsCreated == sessions, "an idle tunnel was renegotiated")
        let peer = try #require(lab.peerStatus("a", of: "b"))
        #expect(peer.pathType == .host && peer.lastRecoveryReason == nil, "\(peer)")

        let plain = try connectedPair(turn: false)
        plain.cutDirectPath("a", "b", consentLost: false)
        let noticed = advance(plain, until: { plain.peerStatus("a", of: "b")?.lastRecoveryReason != nil }, limit: 5_000)
        #expect(noticed != nil, "the silent cut went unnoticed")
        // The first reason is the silence; the generation it starts (every pair, no relay) then fails over ICE.
        let recovering = try #require(plain.peerStatus("a", of: "b"))
        #expect(recovering.lastRecoveryReason?.contains("received nothing") == true, "\(recovering)")
        // Status says so at once: not "connected" while the retry negotiates (the handshake is seconds old).
        #expect(recovering.state == .reestablishing, "\(recovering)")
        plain.restoreDirectPath("a", "b")
        let back = advance(plain, until: { plain.peerStatus("a", of: "b")?.state == .connected }, limit: 70_000)
        #expect(back != nil, "not connected again after the path came back: \(String(describing: plain.peerStatus("a", of: "b")))")
    }
}
