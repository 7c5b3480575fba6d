@testable import RiftAgent
import RiftProtocol
import Testing

/// The debug-level negotiation timeline (AgentCore+Timeline): the failover figures in docs/performance.md were read
/// from these lines, so each step must be named, with its generation and candidate type, and steady-state work must
/// not show up.
@Suite("Negotiation timeline")
struct NegotiationTimelineTests {
    static let me = try! PublicKey(bytes: Array(repeating: 1, count: 32))
    static let peer = try! PublicKey(bytes: Array(repeating: 2, count: 32))

    func signal(_ kind: SignalKind, _ body: SignalPayload.Body, relayOnly: Bool = false) -> SignalPayload {
        SignalPayload(kind: kind, from: Self.me, to: Self.peer, session: "s", generation: 3, body: body, relayOnly: relayOnly)
    }

    @Test("the steps of a relay-only generation: offer, relayed candidates, selected pair, WireGuard moved")
    func relayOnlyGenerationSteps() {
        let offer = signal(.offer, .description(ICEDescription(ufrag: "u", pwd: "p", candidates: []),
                                                WireGuardParameters(publicKey: Self.me, listenPort: 51820)),
                           relayOnly: true)
        let relay = "candidate:3 1 UDP 16777215 203.0.113.9 50000 typ relay raddr 203.0.113.7 rport 61000"
        let pair = MeshEvent.iceSelectedPair(
            peer: Self.peer, instance: 7, local: CandidateEndpoint(kind: .relayed, address: "203.0.113.9", port: 50000),
            remote: CandidateEndpoint(kind: .relayed, address: "203.0.113.9", port: 50001))
        #expect(AgentCore.timelineStep(MeshAction.startICE(peer: Self.peer, instance: 7, controlling: true, scope: .relayOnly))
            == "ice 7: start (controlling, relay only)")
        #expect(AgentCore.timelineStep(MeshAction.startICE(peer: Self.peer, instance: 8, controlling: true, scope: .withoutOwnRelay))
            == "ice 8: start (controlling, no relay of ours)")
        #expect(AgentCore.timelineStep(MeshAction.sendSignal(offer)) == "signal out: offer generation 3 (relay only)")
        #expect(AgentCore.timelineStep(RuntimeEvent.hub(.signal(signal(.candidate, .candidate(relay)))))
            == "signal in: candidate generation 3 relay")
        #expect(AgentCore.timelineStep(RuntimeEvent.mesh(.iceCandidate(peer: Self.peer, instance: 7, candidate: relay)))
            == "ice 7: local candidate relay")
        #expect(AgentCore.timelineStep(RuntimeEvent.mesh(pair))
            == "ice 7: selected pair relay 203.0.113.9:50000 -> relay 203.0.113.9:50001")
        let info = PeerInfo(publicKey: Self.peer, name: "b", ipv4: IPv4Address("100.64.0.2")!, ipv6: IPv6Address("fd00::2")!)
        #expect(AgentCore.timelineStep(MeshAction.configureWireGuardPeer(info, path: .forwarded, instance: 7, keepalive: .now))
            == "ice 7: WireGuard pointed at the forwarded path")
    }

    @Test("steady-state work (ticks, keepalives) is not a step; a candidate line without a type says so")
    func steadyStateIsSilent() {
        #expect(AgentCore.timelineStep(RuntimeEvent.tick) == nil)
        #expect(AgentCore.timelineStep(MeshAction.sendKeepalive(Self.peer)) == nil)
        #expect(AgentCore.timelineStep(MeshAction.addRemoteCandidate(peer: Self.peer, instance: 1, candidate: "garbage"))
            == "ice 1: remote candidate ? added")
    }
}
