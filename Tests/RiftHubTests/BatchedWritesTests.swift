import Foundation
import RiftCrypto
@testable import RiftHub
import RiftProtocol
import Testing

/// The hub's database commits the writes of one service-loop pass together (`batchWrites`, `commitPendingWrites`),
/// and keeps network settings until the change marker moves (`NetworkSettingsCache`).
@Suite("Hub database: batched writes and the network settings cache")
struct BatchedWritesTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubbatch-\(UUID().uuidString)").path
    private let now: Int64 = 1_700_000_000

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    /// An administrator's connection and the hub's own to one new database holding network "home" and a token for it.
    private func homeNetwork(_ engine: StoreEngine) throws
        -> (admin: HubDatabase, hub: HubDatabase, network: NetworkSettings, token: String)
    {
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubDatabase(location: location, announcesChanges: true)
        let network = try admin.createNetwork(name: "home", now: now)
        let (token, _) = try admin.createToken(network: "home", label: "t", expiresAt: nil, now: now)
        return (admin, try HubDatabase(location: location), network, token)
    }

    @Test("batched joins stay invisible to others until the commit, a failing one undoes only itself", arguments: StoreEngine.tested)
    func batchedJoins(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (admin, hub, network, token) = try homeNetwork(engine)
        hub.batchWrites()
        #expect(!hub.hasUncommittedWrites)
        let keys = (0..<3).map { _ in PrivateKey.generate().publicKey }

        let first = try #require(try admit(hub, network, token, keys[0], "one", at: now))
        #expect(hub.hasUncommittedWrites)
        // A write that fails (no such network: the peer row breaks its foreign key) is undone alone.
        var ghost = network
        ghost.name = "ghost"
        #expect(throws: DirectoryError.self) { try hub.admitPeer(publicKey: keys[1], name: "lost", network: ghost, tokenID: token, now: now) }
        let second = try #require(try admit(hub, network, token, keys[2], "two", at: now))
        #expect(first.ipv4 != second.ipv4)
        #expect(try admin.peers(network: "home").isEmpty, "nothing is visible before the commit")

        try hub.commitPendingWrites()
        #expect(!hub.hasUncommittedWrites)
        #expect(try admin.peers(network: "home").map(\.info.publicKey) == [keys[0], keys[2]])
        // The next write opens a new batch; committing with nothing pending does nothing.
        try hub.commitPendingWrites()
        #expect(try admit(hub, network, token, keys[0], "renamed", at: now + 600)?.name == "renamed")
        #expect(hub.hasUncommittedWrites)
        try hub.commitPendingWrites()
        #expect(try admin.peers(network: "home").first { $0.info.publicKey == keys[0] }?.info.name == "renamed")
    }

    @Test("without batching every write commits at once", arguments: StoreEngine.tested)
    func unbatched(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (admin, hub, network, token) = try homeNetwork(engine)
        _ = try admit(hub, network, token, PrivateKey.generate().publicKey, "one", at: now)
        #expect(!hub.hasUncommittedWrites)
        #expect(try admin.peers(network: "home").count == 1)
    }

    @Test("cached network settings are dropped when the change marker moves or this connection changes a network",
          arguments: StoreEngine.tested)
    func settingsCache(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubDatabase(location: location, announcesChanges: true)
        try admin.createNetwork(name: "home", now: now)
        let hub = try HubDatabase(location: location)
        _ = try hub.changeMarker()
        #expect(try hub.network(named: "home")?.dnsSuffix == "rift")
        #expect(hub.networkCache.count == 1)
        #expect(try hub.network(named: "nowhere") == nil)
        #expect(hub.networkCache.count == 1, "unknown names are not cached")

        try admin.setDNSSuffix(network: "home", suffix: "vpn.example.org")
        #expect(try hub.network(named: "home")?.dnsSuffix == "rift", "served from the cache until the next poll")
        _ = try hub.changeMarker()
        #expect(try hub.network(named: "home")?.dnsSuffix == "vpn.example.org")

        try admin.deleteNetwork(name: "home")
        _ = try hub.changeMarker()
        #expect(try hub.network(named: "home") == nil)

        // Its own changes take effect at once.
        try hub.createNetwork(name: "lab", now: now)
        #expect(try hub.network(named: "lab")?.dnsSuffix == "rift")
        try hub.setDNSSuffix(network: "lab", suffix: "lab.example")
        #expect(try hub.network(named: "lab")?.dnsSuffix == "lab.example")
        try hub.deleteNetwork(name: "lab")
        #expect(try hub.network(named: "lab") == nil)
    }
}
