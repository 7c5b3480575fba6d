import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Admin CLI: peer rename")
struct PeerRenameAdministrationTests {
    @Test("the output names the DNS name, says when the derived label was taken and by whom; list shows who named the peer", arguments: StoreEngine.tested)
    func output(engine: StoreEngine) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rename-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubAdministration(databasePath: location, now: { 1_700_000_000 })
        let database = try HubDatabase(location: location)
        _ = try admin.createNetwork(name: "home", ipv4Prefix: nil, ipv6Prefix: nil, maximumPeers: nil)
        let settings = try #require(try database.network(named: "home"))
        let (token, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: 1_700_000_000)
        let holder = PrivateKey.generate().publicKey, renamed = PrivateKey.generate().publicKey
        _ = try database.admitPeer(publicKey: holder, name: "laptop-b", network: settings, tokenID: token, now: 1_700_000_000)
        _ = try database.admitPeer(publicKey: renamed, name: "desktop", network: settings, tokenID: token, now: 1_700_000_000)
        let holderPrefix = String(holder.base64.prefix(8)), renamedPrefix = String(renamed.base64.prefix(8))

        let suffixed = try admin.renamePeer(network: "home", peer: "desktop", name: "Laptop B")
        #expect(suffixed.hasPrefix("Renamed peer \(renamedPrefix)… of network home from \"desktop\" to \"Laptop B\".\n"))
        #expect(suffixed.contains("DNS name: laptop-b-2.home.rift (laptop-b is taken by \(holderPrefix)… (\"laptop-b\"); assigned laptop-b-2)."))
        #expect(suffixed.contains("no longer replaces it"))
        // By key prefix (as printed, with its ellipsis) and by full key; an explicit label that is free.
        let explicit = try admin.renamePeer(network: "home", peer: renamedPrefix + "…", name: "Laptop B", dnsName: "lb")
        #expect(explicit.contains("DNS name: lb.home.rift.") && !explicit.contains("taken"))
        let unchanged = try admin.renamePeer(network: "home", peer: renamed.base64, name: "Box", dnsName: "lb")
        #expect(unchanged.contains("DNS name: lb.home.rift (unchanged)."))

        let taken = #expect(throws: HubStoreError.self) { try admin.renamePeer(network: "home", peer: "Box", name: "x", dnsName: "laptop-b") }
        #expect(taken?.reason == "DNS name laptop-b is taken in network \"home\" by \(holderPrefix)… (\"laptop-b\"); choose another, or rename that peer first")
        let bidi = #expect(throws: HubStoreError.self) { try admin.renamePeer(network: "home", peer: "Box", name: "evil\u{202E}gnp.exe") }
        #expect(bidi?.reason.contains("\"evil\\u{202E}gnp.exe\"") == true, "the refused name is shown with the bidi override escaped")
        #expect(throws: HubStoreError.self) { try admin.renamePeer(network: "home", peer: "Box", name: "x", dnsName: "Not A Label") }
        #expect(throws: HubStoreError.self) { try admin.renamePeer(network: "home", peer: "nobody", name: "x") }
        #expect(throws: HubStoreError.self, "a prefix too short to be safe") { try admin.renamePeer(network: "home", peer: String(renamedPrefix.prefix(3)), name: "x") }

        let lines = try admin.listPeers(network: "home").split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("NAMED BY") == true)
        #expect(lines.contains { $0.contains(renamed.base64) && $0.contains("lb.home.rift") && $0.contains("  admin  ") })
        #expect(lines.contains { $0.contains(holder.base64) && $0.contains("laptop-b.home.rift") && $0.contains("  agent  ") })
    }
}
