import Foundation
import RiftCrypto
import RiftHub
import Testing

@Suite("Admin CLI operations")
struct AdministrationTests {
    @Test("create, list and revoke print what a person needs, never a stored secret", arguments: StoreEngine.tested)
    func workflow(engine: StoreEngine) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubAdministration(databasePath: location, now: { 1_700_000_000 })
        #expect(try admin.listNetworks().contains("No networks"))
        #expect(try admin.createNetwork(name: "home", ipv4Prefix: nil, ipv6Prefix: "fd00:1::/64", maximumPeers: 3)
            == "Created network home: IPv4 100.64.0.0/10, IPv6 fd00:1::/64, at most 3 peers, names under home.rift.\n")
        let created = try admin.createToken(network: "home", label: "laptop", expires: "30d")
        let token = try #require(created.split(separator: "\n").first { $0.hasPrefix("rgt_") }.map(String.init))
        #expect(try BearerToken(text: token).revealedText == token)
        #expect(created.contains("expires: 2023-12-14T22:13:20Z"))
        let tokens = try admin.listTokens(network: "home")
        #expect(tokens.contains("laptop") && tokens.contains("active") && !tokens.contains(token))
        let id = try #require(tokens.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
        _ = try admin.revokeToken(network: "home", id: id)
        #expect(try admin.listTokens(network: "home").contains("revoked"))
        #expect(try admin.listPeers(network: "home").contains("No peers"))
        #expect(throws: HubStoreError.self) { try admin.revokePeer(network: "home", publicKey: "not-a-key") }
        #expect(throws: HubStoreError.self) { try admin.revokePeer(network: "home", publicKey: PrivateKey.generate().publicKey.base64) }
        #expect(throws: HubStoreError.self) { try admin.createNetwork(name: "x", ipv4Prefix: "10.0.0.1/8", ipv6Prefix: nil, maximumPeers: nil) }
        #expect(throws: HubStoreError.self) { try admin.createToken(network: "home", label: "x", expires: "soon") }
        #expect(try admin.listNetworks().contains("home  100.64.0.0/10  fd00:1::/64"))
        #expect(try admin.deleteNetwork(name: "home").contains("Deleted"))
    }
}
