import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Admin CLI: tags and access policy")
struct PolicyAdministrationTests {
    private func withAdmin(_ engine: StoreEngine, _ body: (HubAdministration, HubDatabase) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubAdministration(databasePath: location, now: { 1_700_000_000 })
        let database = try HubDatabase(location: location)
        _ = try admin.createNetwork(name: "home", ipv4Prefix: nil, ipv6Prefix: nil, maximumPeers: nil)
        try body(admin, database)
    }

    /// Admits a peer with the token whose id is `tokenID` and lets it adopt the token's tags, as the hub does on join.
    private func admit(_ database: HubDatabase, name: String, tokenID: String) throws -> PublicKey {
        let key = PrivateKey.generate().publicKey
        let settings = try #require(try database.network(named: "home"))
        _ = try database.admitPeer(publicKey: key, name: name, network: settings, tokenID: tokenID, now: 1_700_000_000)
        _ = try database.peerTags(network: "home", publicKey: key, tokenID: tokenID)
        return key
    }

    private func tokenID(_ output: String) throws -> String {
        try #require(output.split(separator: " ").dropFirst(2).first.map(String.init))
    }

    @Test("tokens carry tags to the peers they admit; the admin retags; policies are validated against tags in use", arguments: StoreEngine.tested)
    func workflow(engine: StoreEngine) throws {
        try withAdmin(engine) { admin, database in
            let ci = try tokenID(try admin.createToken(network: "home", label: "ci", expires: nil, tags: ["ci"]))
            let cache = try tokenID(try admin.createToken(network: "home", label: "cache", expires: nil, tags: ["cache"]))
            #expect(throws: HubStoreError.self) { try admin.createToken(network: "home", label: "x", expires: nil, tags: ["Bad Tag"]) }
            let runner = try admit(database, name: "runner", tokenID: ci)
            let store = try admit(database, name: "store", tokenID: cache)
            #expect(try database.accessControl(network: "home").tags == [runner: ["ci"], store: ["cache"]])
            #expect(try admin.listTokens(network: "home").split(separator: "\n").contains { $0.hasPrefix(ci) && $0.hasSuffix("  ci") })
            #expect(try admin.listPeers(network: "home").split(separator: "\n").contains { $0.contains("store") && $0.hasSuffix("  cache") })

            #expect(try admin.showPolicy(network: "home").contains("no policy"))
            do {
                _ = try admin.setPolicy(network: "home", text: "ci -> cache:tcp/8080\nci -> cahce\n")
                Issue.record("an unknown tag was accepted")
            } catch let error as HubStoreError {
                #expect(error.reason.contains("line 2") && error.reason.contains("unknown tag \"cahce\""), "\(error.reason)")
            }
            #expect(try admin.showPolicy(network: "home").contains("no policy"), "a refused policy changes nothing")
            _ = try admin.setPolicy(network: "home", text: "# build cache\nci -> cache:tcp/8080\n")
            #expect(try admin.showPolicy(network: "home") == "# build cache\nci -> cache:tcp/8080\n", "stored as written")

            let allowed = try admin.checkPolicy(network: "home", from: "runner", to: "store", port: "tcp/8080")
            #expect(allowed.allowed && allowed.text.contains("ALLOWED") && allowed.text.contains("line 2: ci -> cache:tcp/8080"))
            let denied = try admin.checkPolicy(network: "home", from: "runner", to: "store", port: "tcp/22")
            #expect(!denied.allowed && denied.text.contains("DENIED"))
            let reverse = try admin.checkPolicy(network: "home", from: "store", to: runner.base64, port: nil)
            #expect(!reverse.allowed && reverse.text.contains("still introduces"))

            _ = try admin.tagPeer(network: "home", peer: "store", tags: ["ci"])
            #expect(try database.accessControl(network: "home").tags[store] == ["ci"])
            #expect(try database.peerTags(network: "home", publicKey: store, tokenID: cache) == ["ci"], "the admin's tags win over the token's")
            #expect(!(try admin.checkPolicy(network: "home", from: "runner", to: "store", port: "tcp/8080").allowed))
            #expect(throws: HubStoreError.self) { try admin.tagPeer(network: "home", peer: "nobody", tags: []) }

            _ = try admin.clearPolicy(network: "home")
            #expect(try admin.checkPolicy(network: "home", from: "runner", to: "store", port: "tcp/22").allowed)
            #expect(try database.accessControl(network: "home").policyText == nil)
        }
    }
}
