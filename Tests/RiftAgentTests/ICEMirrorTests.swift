import Foundation
@testable import RiftAgent
import RiftNice
import RiftProtocol
import Testing

@Suite("ICE types as the mesh sees them, and the status JSON")
struct ICEMirrorTests {
    @Test("every libnice state keeps its meaning; a disconnected session is lost, not still connecting")
    func stateMapping() {
        let pairs: [(ICEState, ICEConnectivity)] = [
            (.disconnected, .disconnected), (.gathering, .gathering), (.connecting, .connecting),
            (.connected, .connected), (.ready, .ready), (.failed, .failed),
        ]
        for (state, expected) in pairs { #expect(ICEConnectivity(state) == expected) }
        #expect(ICEConnectivity(.disconnected).isLost && ICEConnectivity(.failed).isLost)
        #expect(![ICEState.gathering, .connecting, .connected, .ready].contains { ICEConnectivity($0).isLost })
    }

    @Test("candidate types map one to one")
    func candidateMapping() {
        let pairs: [(ICECandidateType, CandidateKind)] = [
            (.host, .host), (.serverReflexive, .serverReflexive), (.peerReflexive, .peerReflexive), (.relayed, .relayed),
        ]
        for (type, expected) in pairs { #expect(CandidateKind(type) == expected) }
        let endpoint = CandidateEndpoint(ICECandidateInfo(type: .relayed, address: "192.0.2.9", port: 3478))
        #expect(endpoint == CandidateEndpoint(kind: .relayed, address: "192.0.2.9", port: 3478))
    }

    @Test("an ICE session that goes disconnected starts recovery at the next tick, like a failure")
    func disconnectedRecovers() throws {
        var h = MeshHarness.welcomedPair()
        h.settle()
        let instance = try #require(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.instance)
        // The handshake is fresh, so only the ICE state can tell that the path is gone.
        h.send(.tick(nowMilliseconds: 1_000, handshakeAge: [MeshHarness.key(2): 5]), to: 1)
        h.send(.iceState(peer: MeshHarness.key(2), instance: instance, state: ICEConnectivity(.disconnected)), to: 1)
        let actions = h.send(.tick(nowMilliseconds: 2_000, handshakeAge: [MeshHarness.key(2): 6]), to: 1)
        #expect(actions.contains(.closeICE(peer: MeshHarness.key(2), instance: instance)))
        #expect(actions.contains { if case .startICE(_, _, true, _) = $0 { true } else { false } })
        #expect(h.meshes[MeshHarness.key(1)]!.peers[MeshHarness.key(2)]!.lastRecoveryReason?.contains("disconnected") == true)
    }

    @Test("the status JSON keeps its strings: states, path type and mode")
    func statusJSON() throws {
        let peer = AgentStatus.Peer(
            name: "b", publicKey: "k", ipv4: "100.64.0.2", ipv6: "fd00::2", state: .ice(.gathering), pathType: .serverReflexive,
            pathMode: .forwarded, pathReason: "r", localCandidate: nil, remoteCandidate: nil, endpoint: nil,
            lastHandshakeSecondsAgo: nil, rxBytes: 0, txBytes: 0, iceState: .disconnected, lastRecoveryReason: nil)
        var connected = peer
        connected.state = .connected
        connected.pathType = .relayed
        connected.pathMode = .direct
        let status = AgentStatus(
            name: "a", publicKey: "p", network: "home", interface: "rg0", ipv4: nil, ipv6: nil, listenPort: 1, backend: "kernel",
            hub: .init(url: "wss://h", state: .disconnected, lastError: nil), peers: [peer, connected])
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(status)) as? [String: Any])
        #expect((json["hub"] as? [String: Any])?["state"] as? String == "disconnected")
        let peers = try #require(json["peers"] as? [[String: Any]])
        #expect(peers.map { $0["state"] as? String } == ["gathering", "connected"])
        #expect(peers.map { $0["path_type"] as? String } == ["server-reflexive", "relayed"])
        #expect(peers.map { $0["path_mode"] as? String } == ["forwarded", "direct"])
        #expect(peers.map { $0["ice_state"] as? String } == ["disconnected", "disconnected"])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(AgentStatus.self, from: encoder.encode(status)) == status)
    }
}
