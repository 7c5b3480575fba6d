import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

/// Peers' DNS names (PROTOCOL.md §6.13): assigned and kept unique by the database, sent only in version-3 sessions.
@Suite("Hub: peers' DNS names")
struct DNSNameTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubdns-\(UUID().uuidString)").path
    private let now: Int64 = 1_700_000_000

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    @Test("labels are derived, duplicates numbered, kept across rejoins and reopening, renamed with the name, freed by revocation", arguments: StoreEngine.tested)
    func uniqueness(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let keys = (0..<5).map { _ in PrivateKey.generate().publicKey }
        var database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "home", now: now)
        #expect(network.dnsDomain == "home.rift")
        let (token, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: now)
        #expect(try admit(database, network, token, keys[0], "Laptop", at: now)?.dnsName == "laptop")
        #expect(try admit(database, network, token, keys[1], "laptop", at: now)?.dnsName == "laptop-2")
        #expect(try admit(database, network, token, keys[2], "LAPTOP ", at: now)?.dnsName == "laptop-3")
        // The first holder rejoining (fast path and after the window) keeps its label; so does the second.
        #expect(try admit(database, network, token, keys[0], "Laptop", at: now + 1)?.dnsName == "laptop")
        #expect(try admit(database, network, token, keys[1], "laptop", at: now + 500)?.dnsName == "laptop-2")
        database = try HubDatabase(location: location)
        #expect(try admit(database, network, token, keys[2], "laptop", at: now + 600)?.dnsName == "laptop-3", "same label after reopening, and for a name deriving to it")
        // A rename: the new name's label; the old one is free for the next duplicate.
        #expect(try admit(database, network, token, keys[0], "Build Server", at: now + 700)?.dnsName == "build-server")
        #expect(try admit(database, network, token, keys[3], "laptop", at: now + 701)?.dnsName == "laptop")
        // Revocation frees a label.
        try database.revokePeer(network: "home", publicKey: keys[0], now: now + 800)
        #expect(try admit(database, network, token, keys[4], "build-server", at: now + 801)?.dnsName == "build-server")
        let listed = try database.peers(network: "home").filter { $0.revokedAt == nil }.map { $0.info.dnsName ?? "-" }
        #expect(Set(listed) == ["laptop", "laptop-2", "laptop-3", "build-server"])
    }

    @Test("the suffix: default rift, chosen at creation, changed later, refused when not a domain", arguments: StoreEngine.tested)
    func suffix(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let database = try HubDatabase(location: location)
        try database.createNetwork(name: "home", now: now)
        try database.createNetwork(name: "corp", dnsSuffix: "vpn.example.org", now: now)
        #expect(try database.networkSettings(named: "corp")?.dnsDomain == "corp.vpn.example.org")
        try database.setDNSSuffix(network: "home", suffix: "internal")
        #expect(try database.networkSettings(named: "home")?.dnsDomain == "home.internal")
        for bad in ["local", "a.b.c.d", "Rift", "rift.", "123", ""] {
            #expect(throws: HubStoreError.self, "\(bad)") { try database.setDNSSuffix(network: "home", suffix: bad) }
        }
        #expect(throws: HubStoreError.self) { try database.setDNSSuffix(network: "nowhere", suffix: "rift") }
        #expect(throws: HubStoreError.self) { try database.createNetwork(name: "x", dnsSuffix: "x.local", now: now) }
    }

    @Test("a version-3 session gets dns_name and dns_domain; a version-2 session in the same network gets neither")
    func versions() throws {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let a = PrivateKey.generate(), b = PrivateKey.generate(), c = PrivateKey.generate()
        let (connectionA, welcomeA) = hub.join(network: "home", token: token, key: a, name: "Laptop A", version: ProtocolVersion.v3)
        #expect(welcomeA?.dnsDomain == "home.rift")
        #expect(welcomeA?.me.dnsName == "laptop-a")
        let (connectionB, welcomeB) = hub.join(network: "home", token: token, key: b, name: "laptop a", version: ProtocolVersion.v2)
        #expect(welcomeB?.dnsDomain == nil && welcomeB?.me.dnsName == nil)
        #expect(welcomeB?.peers.map(\.dnsName) == [nil], "a v2 session is not told about DNS names")
        let joinedB = hub.take(connectionA).compactMap { message -> PeerInfo? in
            if case .peerJoined(let info) = message { return info } else { return nil }
        }
        #expect(joinedB.map(\.dnsName) == ["laptop-a-2"])
        let (_, welcomeC) = hub.join(network: "home", token: token, key: c, name: "c", version: ProtocolVersion.v3)
        #expect(Set(welcomeC?.peers.compactMap(\.dnsName) ?? []) == ["laptop-a", "laptop-a-2"])
        _ = hub.take(connectionA); _ = hub.take(connectionB)
        // A rename reaches the others as a peer_joined with the new names.
        let (_, renamed) = hub.join(network: "home", token: token, key: c, name: "Printer", version: ProtocolVersion.v3)
        #expect(renamed?.me.dnsName == "printer")
        #expect(hub.take(connectionA).contains { if case .peerJoined(let info) = $0 { info.dnsName == "printer" && info.name == "Printer" } else { false } })
        #expect(hub.take(connectionB).contains { if case .peerJoined(let info) = $0 { info.dnsName == nil && info.name == "Printer" } else { false } })
    }
}
