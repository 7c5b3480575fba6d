import Foundation
import RiftCrypto
@testable import RiftHub
import RiftProtocol
import RiftStore
import Testing

/// `riftgate-hub peer rename` in the database (PROTOCOL.md §6.13): validation, labels, the sticky flag, migration 5.
@Suite("Hub: renaming peers (store)")
struct PeerRenameStoreTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubrename-\(UUID().uuidString)").path
    private let now: Int64 = 1_700_000_000

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    @Test("a rename derives and numbers the label, says who holds it, and sticks across joins with the agent's old name", arguments: StoreEngine.tested)
    func renameSticks(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let keys = (0..<3).map { _ in PrivateKey.generate().publicKey }
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "home", now: now)
        let (token, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: now)
        _ = try admit(database, network, token, keys[0], "Laptop B", at: now)
        _ = try admit(database, network, token, keys[1], "desktop", at: now)
        #expect(try database.adminRenames(after: 0).isEmpty)

        let renamed = try database.renamePeer(network: "home", publicKey: keys[1], name: "Laptop-B", dnsName: nil)
        #expect(renamed.before.name == "desktop" && renamed.before.dnsName == "desktop")
        #expect(renamed.after.name == "Laptop-B" && renamed.after.dnsName == "laptop-b-2")
        #expect(renamed.takenLabel == "laptop-b" && renamed.takenBy?.publicKey == keys[0])
        let renames = try database.adminRenames(after: 0)
        #expect(renames.map(\.name) == ["Laptop-B"] && renames.first?.dnsName == "laptop-b-2" && renames.first?.peer.publicKey == keys[1])
        #expect(try database.adminRenames(after: renames[0].revision).isEmpty, "only what is new")

        // The agent's name no longer replaces it: neither on the fast path nor after the unchanged-join window.
        #expect(try admit(database, network, token, keys[1], "desktop", at: now + 1)?.name == "Laptop-B")
        let later = try admit(database, network, token, keys[1], "desktop", at: now + 500)
        #expect(later?.name == "Laptop-B" && later?.dnsName == "laptop-b-2")
        let listed = try database.peers(network: "home")
        #expect(listed.first { $0.info.publicKey == keys[1] }?.nameSetByAdmin == true)
        #expect(listed.first { $0.info.publicKey == keys[0] }?.nameSetByAdmin == false)
        // Others still follow their agent; the freed label "desktop" goes to the next peer that wants it.
        #expect(try admit(database, network, token, keys[2], "Desktop", at: now + 501)?.dnsName == "desktop")

        // An explicit label: taken ones are refused (never numbered), free ones set as given.
        #expect(throws: HubStoreError.self) { try database.renamePeer(network: "home", publicKey: keys[1], name: "x", dnsName: "laptop-b") }
        let explicit = try database.renamePeer(network: "home", publicKey: keys[1], name: "Laptop-B", dnsName: "lb")
        #expect(explicit.after.dnsName == "lb" && explicit.takenLabel == nil)
        #expect(try admit(database, network, token, keys[1], "desktop", at: now + 900)?.dnsName == "lb", "an explicit label sticks too")
        // Renaming to the label a peer already holds is no conflict; a second rename gets a higher revision.
        let again = try database.renamePeer(network: "home", publicKey: keys[0], name: "Laptop B", dnsName: nil)
        #expect(again.after.dnsName == "laptop-b" && again.takenLabel == nil)
        #expect(try database.adminRenames(after: renames[0].revision).map(\.name) == ["Laptop-B", "Laptop B"])
    }

    @Test("names are checked as hello.name is; labels as dns_name is; unknown and revoked peers are refused", arguments: StoreEngine.tested)
    func refusals(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let key = PrivateKey.generate().publicKey, other = PrivateKey.generate().publicKey
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "home", now: now)
        let (token, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: now)
        _ = try admit(database, network, token, key, "box", at: now)
        _ = try admit(database, network, token, other, "other", at: now)
        for bad in ["", " lead", "trail ", "evil\u{202E}txt", "zero\u{200B}width", "tab\there", "line\u{2028}break", String(repeating: "a", count: 64)] {
            #expect(!Names.isValidPeerName(bad), "the hub refuses \(bad) in hello.name")
            #expect(throws: HubStoreError.self, "\(bad)") { try database.renamePeer(network: "home", publicKey: key, name: bad, dnsName: nil) }
        }
        #expect(try database.renamePeer(network: "home", publicKey: key, name: String(repeating: "é", count: 63), dnsName: nil).after.name.count == 63)
        for bad in ["", "-a", "a-", "Upper", "a.b", "ü", String(repeating: "a", count: 64)] {
            #expect(throws: HubStoreError.self, "\(bad)") { try database.renamePeer(network: "home", publicKey: key, name: "ok", dnsName: bad) }
        }
        #expect(throws: HubStoreError.self) { try database.renamePeer(network: "nowhere", publicKey: key, name: "ok", dnsName: nil) }
        #expect(throws: HubStoreError.self) { try database.renamePeer(network: "home", publicKey: PrivateKey.generate().publicKey, name: "ok", dnsName: nil) }
        try database.revokePeer(network: "home", publicKey: other, now: now + 1)
        #expect(throws: HubStoreError.self) { try database.renamePeer(network: "home", publicKey: other, name: "ok", dnsName: nil) }
        #expect(try database.peers(network: "home").first { $0.info.publicKey == other }?.info.name == "other", "a refused rename writes nothing")
    }

    @Test("migration 5 keeps a version-4 database's peers, named by their agents")
    func migration() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/hub.db"
        let key = PrivateKey.generate().publicKey
        do {
            let old = try SQLiteDatabase(path: path)
            try old.migrate(Array(HubDatabase.migrations.prefix { $0.version <= 4 }))
            _ = try old.run("INSERT INTO networks (name, ipv4_prefix, ipv6_prefix, max_peers, created_at) VALUES ('home', '100.64.0.0/10', 'fd00:1::/64', 10, 0)")
            _ = try old.run("""
                INSERT INTO peers (network, public_key, name, host_offset, ipv4, ipv6, first_seen_at, last_seen_at, dns_name)
                VALUES ('home', ?, 'old box', 1, '100.64.0.1', 'fd00:1::1', 0, 0, 'old-box')
                """, [.text(key.base64)])
        }
        let database = try HubDatabase(path: path)
        let peer = try #require(try database.peers(network: "home").first)
        #expect(peer.info.name == "old box" && peer.info.dnsName == "old-box" && !peer.nameSetByAdmin)
        #expect(try database.adminRenames(after: 0).isEmpty)
        #expect(try database.renamePeer(network: "home", publicKey: key, name: "New Box", dnsName: nil).after.dnsName == "new-box")
        #expect(try database.peers(network: "home").first?.nameSetByAdmin == true)
    }
}
