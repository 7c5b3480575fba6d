import Foundation
@testable import RiftAgent
import Testing

/// Several hub URLs (the members of one hub cluster): `hub` as a string or a list, validated entry by entry, written
/// back as a string when there is one.
@Suite("Agent configuration: several hubs")
struct HubListConfigurationTests {
    static let rest = "network = \"home\"\nsecrets_file = \"/s\"\n"

    func parse(_ hubLine: String) throws -> AgentConfiguration {
        try AgentConfiguration.parse(hubLine + "\n" + Self.rest, path: "riftgate.toml")
    }

    @Test("hub = \"…\" is one hub, as before")
    func singleString() throws {
        let configuration = try parse("hub = \"wss://hub.example:443/\"")
        #expect(configuration.hubs == ["wss://hub.example:443/"])
        #expect(configuration.hub == "wss://hub.example:443/")
        #expect(configuration.hubURLs == ["wss://hub.example:443/v1/networks/home"])
    }

    @Test("hub = [\"…\", \"…\"] keeps the order; every hub gets the network's path")
    func array() throws {
        let configuration = try parse("hub = [\"wss://b.example\", \"wss://a.example:8443/\", \"ws://[::1]:8080\"]")
        #expect(configuration.hubs == ["wss://b.example", "wss://a.example:8443/", "ws://[::1]:8080"])
        #expect(configuration.hub == "wss://b.example", "the first is netcheck's default")
        #expect(configuration.hubURLs == ["wss://b.example/v1/networks/home", "wss://a.example:8443/v1/networks/home",
                                          "ws://[::1]:8080/v1/networks/home"])
    }

    @Test("a bad entry is named in the error", arguments: [
        ("hub = []", "list"),
        ("hub = 42", "URL string or a list"),
        ("hub = [\"wss://a\", 7]", "URL string or a list"),
        ("hub = [\"wss://a\", \"https://b\"]", "\"https://b\""),
        ("hub = [\"wss://a\", \"wss://\"]", "\"wss://\""),
        ("hub = [\"wss://a.example\", \"wss://b\", \"wss://A.example/\"]", "listed twice"),
        ("hub = [[\"wss://a\"]]", "URL string or a list"),
    ])
    func badEntries(_ line: String, _ mentioned: String) {
        do {
            _ = try parse(line)
            Issue.record("accepted \(line)")
        } catch {
            #expect("\(error)".contains(mentioned), "\(error)")
        }
    }

    @Test("written back: one hub as a string, several as a list; both load back unchanged")
    func roundTrip() throws {
        let one = try parse("hub = [\"wss://only.example\"]")
        #expect(one.tomlText.contains("hub = \"wss://only.example\"\n"))
        #expect(try AgentConfiguration.parse(one.tomlText, path: "written") == one)
        let several = try parse("hub = [\"wss://a.example\", \"wss://b.example:8443\"]")
        #expect(several.tomlText.contains("hub = [\"wss://a.example\", \"wss://b.example:8443\"]\n"))
        #expect(try AgentConfiguration.parse(several.tomlText, path: "written") == several)
    }

    @Test("riftgate init with several --hub writes the list; a bad one is refused by name and nothing is written")
    func initialize() throws {
        let directory = NSTemporaryDirectory() + "riftgate-hubs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = "rgt_" + String(repeating: "A", count: 43)
        let config = directory + "/riftgate.toml"
        _ = try AgentSetup.initialize(configPath: config, hubs: ["wss://a.example", "wss://b.example"], network: "home",
                                      token: token, name: "laptop", interface: nil, caFile: nil, force: false)
        #expect(try AgentConfiguration.load(path: config).hubs == ["wss://a.example", "wss://b.example"])
        let other = directory + "/other.toml"
        do {
            _ = try AgentSetup.initialize(configPath: other, hubs: ["wss://a.example", "http://b.example"], network: "home",
                                          token: token, name: "laptop", interface: nil, caFile: nil, force: false)
            Issue.record("accepted http://")
        } catch {
            #expect("\(error)".contains("http://b.example"))
        }
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
