import Foundation
import RiftCrypto
import RiftHub
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    private func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).toml").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("no settings at all gives laptop-friendly defaults")
    func defaults() throws {
        let configuration = try ConfigurationLayers.load(configFile: nil, flags: [:], environment: ["HOME": "/home/someone"])
        #expect(configuration.listen == ListenAddress(host: nil, port: 8443))
        #expect(configuration.stunPort == 3478)
        #expect(configuration.tlsCertificate == nil)
        #expect(configuration.turnTTL == 43_200)
        #expect(configuration.pingInterval == 20 && configuration.pongTimeout == 60)
        #expect(StateDirectory.defaultPath(environment: ["HOME": "/home/someone"], isRoot: false) == "/home/someone/.local/state/riftgate-hub")
        #expect(StateDirectory.defaultPath(environment: ["XDG_STATE_HOME": "/x/state"], isRoot: false) == "/x/state/riftgate-hub")
        #expect(StateDirectory.defaultPath(environment: [:], isRoot: true) == "/var/lib/riftgate-hub")
    }

    @Test("flags beat the environment, which beats the file, which beats the defaults")
    func precedence() throws {
        let file = try temporaryFile("""
            listen = "127.0.0.1:9000"
            stun_port = 4000
            stun_host = "0.0.0.0"
            public_host = "file.example"
            turn_urls = ["turn:a.example:3478", "turns:b.example:5349"]
            turn_secret_file = "/etc/secret"
            turn_ttl = "2h"
            turn_check_interval = "2m"
            ping_interval = 5
            pong_timeout = "15s"
            """)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let environment = ["RIFTGATE_HUB_PUBLIC_HOST": "env.example", "RIFTGATE_HUB_STUN_PORT": "4001", "RIFTGATE_HUB_UNRELATED": "x"]
        let configuration = try ConfigurationLayers.load(configFile: file, flags: ["stun_port": .integer(4002)], environment: environment)
        #expect(configuration.listen == ListenAddress(host: "127.0.0.1", port: 9000))
        #expect(configuration.stunPort == 4002)
        #expect(configuration.stunHost == "0.0.0.0", "STUN can answer publicly while the WebSocket listens behind a proxy")
        #expect(configuration.publicHost == "env.example")
        #expect(configuration.turnURLs == ["turn:a.example:3478", "turns:b.example:5349"])
        #expect(configuration.turnTTL == 7200)
        #expect(configuration.turnCheckInterval == 120 && HubConfiguration().turnCheckInterval == 60)
        #expect(configuration.pingInterval == 5 && configuration.pongTimeout == 15)
        let noSTUN = try ConfigurationLayers.load(configFile: file, flags: [:], environment: ["RIFTGATE_HUB_NO_STUN": "true"])
        #expect(noSTUN.stunPort == nil)
        let viaEnvironment = try ConfigurationLayers.load(configFile: nil, flags: [:], environment: ["RIFTGATE_HUB_CONFIG": file])
        #expect(viaEnvironment.stunPort == 4000)
    }

    @Test("bad settings are refused with the setting's name and source",
          arguments: [
              ("listen = \"nonsense\"", "listen (config file"),
              ("lisen = \"127.0.0.1:1\"", "unknown setting \"lisen\""),
              ("stun_port = 70000", "stun_port"),
              ("tls_cert = \"/c.pem\"", "tls_cert and tls_key"),
              ("turn_secret_file = \"/s\"", "turn_urls"),
              ("turn_urls = [\"http://x\"]", "not a turn:"),
              ("ping_interval = 10\npong_timeout = 5", "pong_timeout"),
              ("public_host = \"bad host\"", "public_host"),
              ("log_level = \"loud\"", "log_level"),
              ("turn_check_interval = 0", "turn_check_interval"),
              ("nats = \"http://a:4222\"", "nats: "),
              ("nats = \"nats://u:secret@a:4222,ftp://b\"", "nats: "),
              ("hub_id = \"Hub.1\"", "hub_id"),
              ("listen = [", "config file"),
              // toml++ aborted on an assertion for table headers like these (found by FuzzConfiguration).
              ("listen = \":443\"\n[=]", "line 2: settings are plain key = value lines"),
              ("[.a]", "[tables]"), (" [\u{1D}]", "[tables]"), ("[[{]]", "[tables]"), ("[\u{711}\u{A4} ", "[tables]"),
              ("turn_urls = [}", "{inline tables}"), ("turn_urls = [\"a\",\n# c\n}", "line 3"),
              ("log_level = \"\"\"x\"\"\"\"\n[=]", "line 2"),
          ])
    func refusals(toml: String, expected: String) throws {
        let file = try temporaryFile(toml)
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            _ = try ConfigurationLayers.load(configFile: file, flags: [:], environment: [:])
            Issue.record("accepted: \(toml)")
        } catch {
            #expect(error.reason.contains(expected), "\(error.reason)")
        }
    }

    @Test("a cluster member: nats servers from a list, a comma-separated text or the environment, and the hub id")
    func cluster() throws {
        #expect(HubConfiguration().natsServers.isEmpty && HubConfiguration().hubID == nil, "the single hub by default")
        let file = try temporaryFile("nats = [\"nats://a:4222\", \"nats://b:4222\"]\nhub_id = \"hub-1\"")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try ConfigurationLayers.load(configFile: file, flags: [:], environment: [:])
        #expect(fromFile.natsServers == ["nats://a:4222", "nats://b:4222"] && fromFile.hubID == "hub-1")
        let fromEnvironment = try ConfigurationLayers.load(configFile: file, flags: ["hub_id": .text("hub-9")],
                                                           environment: ["RIFTGATE_HUB_NATS": "nats://c:4222, nats://d:4222"])
        #expect(fromEnvironment.natsServers == ["nats://c:4222", "nats://d:4222"] && fromEnvironment.hubID == "hub-9")
    }

    @Test("database: a postgres:// URL from the file or the environment selects PostgreSQL and is logged without its password")
    func postgresDatabase() throws {
        let file = try temporaryFile("database = \"postgres://rift:s3cret@db.example:5433/hub\"\n")
        let fromFile = try ConfigurationLayers.load(configFile: file, flags: [:], environment: ["HOME": "/home/someone"])
        #expect(fromFile.usesPostgres)
        #expect(fromFile.databaseDescription == "postgres://rift:***@db.example:5433/hub")
        let fromEnvironment = try ConfigurationLayers.load(configFile: nil, flags: [:],
                                                           environment: ["HOME": "/home/someone", "RIFTGATE_HUB_DATABASE": "postgresql://db/hub"])
        #expect(fromEnvironment.usesPostgres && fromEnvironment.databasePath == "postgresql://db/hub")
        let path = try ConfigurationLayers.load(configFile: nil, flags: ["database": .text("/srv/hub.db")], environment: ["HOME": "/home/someone"])
        #expect(!path.usesPostgres && path.databaseDescription == "/srv/hub.db")
    }

    @Test("durations and listen addresses parse as people write them")
    func parsing() {
        #expect(DurationText.seconds("90") == 90)
        #expect(DurationText.seconds("30s") == 30)
        #expect(DurationText.seconds("15m") == 900)
        #expect(DurationText.seconds("12h") == 43_200)
        #expect(DurationText.seconds("30d") == 2_592_000)
        for bad in ["", "h", "0", "-5", "5x", "1.5h", "99999999999d"] { #expect(DurationText.seconds(bad) == nil, "\(bad)") }
        #expect(ListenAddress("0.0.0.0:8443") == ListenAddress(host: nil, port: 8443))
        #expect(ListenAddress(":8443") == ListenAddress(host: nil, port: 8443))
        #expect(ListenAddress("[::]:1") == ListenAddress(host: nil, port: 1))
        #expect(ListenAddress("[::1]:9090") == ListenAddress(host: "::1", port: 9090))
        #expect(ListenAddress("127.0.0.1:0") == ListenAddress(host: "127.0.0.1", port: 0))
        for bad in ["8443", "host:", "host:99999", "::1:80", "[::1]80"] { #expect(ListenAddress(bad) == nil, "\(bad)") }
    }

    @Test("the hub key is created once with mode 0600, reused, and refused when others can read it")
    func hubKeyFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)/nested").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let state = StateDirectory(path: path)
        try state.prepare()
        let (created, isNew) = try state.loadOrCreateHubKey()
        #expect(isNew)
        let (loaded, isNewAgain) = try state.loadOrCreateHubKey()
        #expect(!isNewAgain && loaded.publicKey == created.publicKey)
        #expect((try FileManager.default.attributesOfItem(atPath: state.hubKeyPath)[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o700)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: state.hubKeyPath)
        #expect(throws: ConfigurationError.self) { try state.loadOrCreateHubKey() }
    }

    /// (The same under umask 000 is checked by an integration test on the real binary: umask is per process, and
    /// Swift Testing runs other tests concurrently.)
    @Test("the state directory is 0700 and the parents it creates are 0755; a file in the way is a clear error")
    func stateDirectoryModesIgnoreUmask() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("umask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let state = StateDirectory(path: root + "/a/b/riftgate-hub")
        try state.prepare()
        try state.prepare()  // idempotent
        let mode = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) }
        #expect(try mode(root) == 0o755 && mode(root + "/a") == 0o755 && mode(root + "/a/b") == 0o755)
        #expect(try mode(state.path) == 0o700)
        let file = root + "/a/file"
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect(throws: ConfigurationError.self) { try StateDirectory(path: file + "/state").prepare() }
    }
}
