import RiftCluster
import Testing

/// The server list from `--nats`: parsing, and credentials kept out of anything shown.
@Suite struct ServerListTests {
    @Test func parsesACommaSeparatedList() throws {
        let list = try ServerList(commaSeparated: "nats://a:4222, nats://b:4222,,tls://c.example.org:4443")
        #expect(list.urls == ["nats://a:4222", "nats://b:4222", "tls://c.example.org:4443"])
        #expect(list.description == "nats://a:4222,nats://b:4222,tls://c.example.org:4443")
    }

    @Test func redactsUserInformation() throws {
        let list = try ServerList(["nats://hub:pa@ss@a:4222/x", "nats://s3cr3t-token@b:4222", "nats://c:4222"])
        #expect(list.redacted == ["nats://***@a:4222/x", "nats://***@b:4222", "nats://c:4222"])
        #expect(!list.description.contains("pa@ss") && !list.description.contains("s3cr3t"))
        #expect(ServerList.redact("nats://u:p@h:1") == "nats://***@h:1")
    }

    @Test func refusesWhatIsNotANATSURL() {
        for bad in ["", " , ", "http://a:4222", "a:4222", "nats://", "nats://user:secret@", "nats://:4222"] {
            #expect(throws: ClusterBusError.self, "\(bad)") { try ServerList(commaSeparated: bad) }
        }
        do {
            _ = try ServerList(["http://user:secret@a:4222"])
        } catch {
            #expect(error.description.contains("http://***@a:4222"))
            #expect(!error.description.contains("secret"))
        }
    }
}
