import RiftCrypto
@testable import RiftHub
import RiftProtocol
import Testing

@Suite("Metrics")
struct HubMetricsTests {
    @Test("the Prometheus page lists gauges, every relay kind and error code, and the counters")
    func prometheusText() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate()
        let (connectionA, _) = hub.join(network: "home", token: token, key: a)
        _ = hub.join(network: "home", token: token, key: b)
        hub.send(connectionA, .signal(OutgoingSignal(kind: .offer, to: b.publicKey, sealed: RouterHarness.box())))
        _ = hub.open(network: "home", token: "rgt_nope")
        hub.router.connectionRefused(.pendingPerAddress, address: "192.0.2.7")
        hub.router.connectionRefused(.pendingPerAddress, address: "192.0.2.7")
        hub.tick()
        let text = hub.router.metrics.prometheusText()
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("riftgate_hub_connected_peers 2"))
        #expect(lines.contains("riftgate_hub_open_connections 3"))
        #expect(lines.contains("riftgate_hub_networks 1"))
        #expect(lines.contains("riftgate_hub_connections_total 3"))
        #expect(lines.contains(#"riftgate_hub_messages_relayed_total{kind="offer"} 1"#))
        #expect(lines.contains(#"riftgate_hub_messages_relayed_total{kind="end_of_candidates"} 0"#))
        #expect(lines.contains(#"riftgate_hub_messages_rejected_total{code="unauthorized"} 1"#))
        #expect(lines.contains(#"riftgate_hub_auth_failures_total{reason="malformed_token"} 1"#))
        #expect(lines.contains("# TYPE riftgate_hub_messages_rejected_total counter"))
        #expect(lines.contains(#"riftgate_hub_connections_refused_total{reason="pending_per_address"} 2"#))
        #expect(lines.contains(#"riftgate_hub_connections_refused_total{reason="capacity"} 0"#))
        #expect(!text.contains(token), "no secret on the metrics page")
    }
}
