import Logging
import RiftCluster
import Testing

/// Connecting without any server: needs no nats-server, so it runs everywhere.
@Suite struct ClusterBusConnectTests {
    @Test func unreachableServersFailWithoutShowingCredentials() throws {
        let port = try FreePorts.take(1)[0]  // nothing listens there
        let configuration = ClusterBusConfiguration(
            servers: try ServerList(["nats://hub:s3cret-password@127.0.0.1:\(port)"]), name: "hub-1")
        do {
            _ = try ClusterBus.connect(configuration, logger: Logger(label: "riftgate.cluster.test"))
            Issue.record("connected to a port nobody listens on")
        } catch {
            #expect(error.status == 6)  // NATS_NO_SERVER
            #expect(error.statusText == "No server available for connection")
            #expect(!error.description.contains("s3cret"))
            #expect(error.description.contains("nats://***@127.0.0.1:\(port)"))
        }
    }
}
