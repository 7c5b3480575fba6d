@testable import RiftNice
import Testing

@Suite("TURN relay through a real coturn", .serialized)
struct RelayTests {
    @Test("force-relay sessions gather relay candidates, connect on a relayed pair, carry data, and free the allocations on close; the TURN server reached over UDP or over TCP",
          .enabled(if: Coturn.executable != nil, "turnserver (coturn) is not installed; install the coturn package"),
          arguments: ICERelayTransport.allCases)
    func relayedPair(transport: ICERelayTransport) async throws {
        let coturn = try await Coturn()
        defer { coturn.stop() }
        let loop = ICEEventLoop(name: "nice-test-turn")
        defer { loop.shutdown() }
        let servers = ICEServerConfiguration(
            turn: [(host: "127.0.0.1", port: coturn.port, username: coturn.username, password: coturn.password, transport: transport)],
            forceRelay: true)
        let pair = try SessionPair(loop: loop) { $0.servers = servers }
        defer { pair.close() }
        try pair.controlling.startGathering()
        try pair.controlled.startGathering()

        try await pair.connect(timeout: .seconds(15))

        let candidates = pair.controllingLog.candidates() + pair.controlledLog.candidates()
        #expect(!candidates.isEmpty && candidates.allSatisfy { $0.contains("typ relay") }, "\(candidates)")
        let selected = try #require(pair.controlling.selectedPair)
        #expect(selected.local.type == .relayed, "controlling pair: \(selected)")
        #expect(pair.controlled.selectedPair?.local.type == .relayed)
        await pair.expectDatagramsBothWays(Array("through the relay".utf8))
        // coturn logs each TCP client connection: both agents reached it over TCP, or neither did.
        let tcpClients = coturn.log.components(separatedBy: "tcp or tls connected to").count - 1
        #expect(tcpClients == (transport == .tcp ? 2 : 0), "TCP client connections in coturn's log: \(tcpClients)")

        pair.close()
        #expect(await eventually { (try? liveAgents(on: loop)) == 0 }, "GLib freed both agents")
        let deallocated = await eventually { coturn.log.components(separatedBy: "lifetime=0").count - 1 == 2 }
        #expect(deallocated, "both allocations were released (refresh with lifetime 0); coturn log:\n\(coturn.log.suffix(1500))")
    }
}
