import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Hub database (SQLite and PostgreSQL)")
struct HubDatabaseTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubdb-\(UUID().uuidString)").path
    private var path: String { directory + "/hub.db" }
    private let now: Int64 = 1_700_000_000

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    @Test("networks: defaults, a random ULA /64, explicit prefixes, and clear errors", arguments: StoreEngine.tested)
    func networks(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let database = try HubDatabase(location: location)
        let home = try database.createNetwork(name: "home", now: now)
        #expect(home.ipv4Prefix.description == "100.64.0.0/10")
        #expect(home.ipv6Prefix.length == 64 && home.ipv6Prefix.network.bytes[0] == 0xFD)
        #expect(home.maximumPeers == 1024)
        let other = try database.createNetwork(name: "other", now: now)
        #expect(other.ipv6Prefix != home.ipv6Prefix)
        try database.createNetwork(name: "lab", ipv4Prefix: IPv4Prefix("10.9.0.0/29"), ipv6Prefix: IPv6Prefix("fd01::/48"), maximumPeers: 6, now: now)
        #expect(try database.networks(now: now).map(\.settings.name) == ["home", "lab", "other"])
        func kind(_ body: () throws -> Void) -> HubStoreError.Kind? {
            do { try body() } catch let error as HubStoreError { return error.kind } catch { return nil }
            return nil
        }
        #expect(kind { try database.createNetwork(name: "home", now: now) } == .duplicateNetwork)
        #expect(kind { try database.createNetwork(name: "Bad_Name", now: now) } == .invalidInput)
        #expect(kind { try database.createNetwork(name: "tiny", ipv4Prefix: IPv4Prefix("10.0.0.0/31"), now: now) } == .invalidInput)
        #expect(kind { try database.createNetwork(name: "long6", ipv6Prefix: IPv6Prefix("fd00::/96"), now: now) } == .invalidInput)
        #expect(kind { try database.createNetwork(name: "many", ipv4Prefix: IPv4Prefix("10.0.0.0/29"), maximumPeers: 7, now: now) } == .invalidInput)
        #expect(kind { try database.deleteNetwork(name: "nowhere") } == .unknownNetwork)
        try database.deleteNetwork(name: "other")
        #expect(try database.networkSettings(named: "other") == nil)
    }

    @Test("tokens are stored as hashes, found only while live, and listed without their value", arguments: StoreEngine.tested)
    func tokens(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let database = try HubDatabase(location: location)
        try database.createNetwork(name: "home", now: now)
        let (id, token) = try database.createToken(network: "home", label: "laptop", expiresAt: now + 100, now: now)
        #expect(try database.liveToken(hash: token.hash, now: now)?.id == id)
        #expect(try database.liveToken(hash: token.hash, now: now)?.network == "home")
        #expect(try database.liveToken(hash: token.hash, now: now + 100) == nil, "expired")
        #expect(try database.liveToken(hash: BearerToken.generate().hash, now: now) == nil)
        if engine == .sqlite {
            let raw = try String(contentsOfFile: path, encoding: .isoLatin1)
            #expect(!raw.contains(token.revealedText), "the token itself is never stored")
        }
        try database.revokeToken(network: "home", id: id, now: now + 1)
        #expect(try database.liveToken(hash: token.hash, now: now + 2) == nil)
        let listed = try database.tokens(network: "home")
        #expect(listed.map(\.id) == [id] && listed[0].revokedAt == now + 1 && listed[0].label == "laptop")
        #expect(throws: HubStoreError.self) { try database.revokeToken(network: "home", id: "nope", now: now) }
        #expect(throws: HubStoreError.self) { try database.createToken(network: "nowhere", label: "x", expiresAt: nil, now: now) }
        #expect(throws: HubStoreError.self) { try database.createToken(network: "home", label: "", expiresAt: nil, now: now) }
    }

    @Test("peers get stable, distinct addresses that survive reopening; limits and revocation apply", arguments: StoreEngine.tested)
    func peersSurviveRestart(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let keys = (0..<3).map { _ in PrivateKey.generate().publicKey }
        var first: [PeerInfo] = []
        do {
            let database = try HubDatabase(location: location)
            let network = try database.createNetwork(name: "home", ipv4Prefix: IPv4Prefix("10.5.0.0/24"),
                                                     ipv6Prefix: IPv6Prefix("fd05::/64"), maximumPeers: 2, now: now)
            let (tokenID, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: now)
            for key in keys.prefix(2) {
                guard case .admitted(let info) = try database.admitPeer(publicKey: key, name: "n", network: network, tokenID: tokenID, now: now) else {
                    Issue.record("not admitted"); return
                }
                first.append(info)
            }
            #expect(first.map(\.ipv4.description) == ["10.5.0.1", "10.5.0.2"])
            #expect(first.map(\.ipv6.description) == ["fd05::1", "fd05::2"])
            #expect(try database.admitPeer(publicKey: keys[2], name: "n", network: network, tokenID: tokenID, now: now) == .networkFull)
            #expect(try database.tokens(network: "home").first?.lastUsedAt == now)
        }
        let reopened = try HubDatabase(location: location)
        let network = try #require(try reopened.networkSettings(named: "home"))
        let tokenID = try #require(try reopened.tokens(network: "home").first?.id)
        guard case .admitted(let again) = try reopened.admitPeer(publicKey: keys[0], name: "renamed", network: network, tokenID: tokenID, now: now + 5) else {
            Issue.record("known key refused"); return
        }
        #expect(again.ipv4 == first[0].ipv4 && again.ipv6 == first[0].ipv6 && again.name == "renamed")
        try reopened.revokePeer(network: "home", publicKey: keys[1], now: now + 6)
        #expect(try reopened.admitPeer(publicKey: keys[1], name: "n", network: network, tokenID: tokenID, now: now + 7) == .revoked)
        // The revoked peer frees its slot but keeps its address reserved.
        guard case .admitted(let third) = try reopened.admitPeer(publicKey: keys[2], name: "n", network: network, tokenID: tokenID, now: now + 8) else {
            Issue.record("slot not freed"); return
        }
        #expect(third.ipv4.description == "10.5.0.3")
        let listed = try reopened.peers(network: "home")
        #expect(listed.map(\.info.name) == ["renamed", "n", "n"])
        #expect(listed[1].revokedAt == now + 6)
        try reopened.recordLastSeen([PeerAddress(network: "home", publicKey: keys[0])], now: now + 60)
        #expect(try reopened.peers(network: "home")[0].lastSeenAt == now + 60)
        // Several peers in one write (one statement on PostgreSQL); a peer of another network is not touched.
        try reopened.recordLastSeen([PeerAddress(network: "home", publicKey: keys[1]), PeerAddress(network: "home", publicKey: keys[2]),
                                     PeerAddress(network: "elsewhere", publicKey: keys[0])], now: now + 61)
        #expect(try reopened.peers(network: "home").map(\.lastSeenAt) == [now + 60, now + 61, now + 61])
        // A rejoin that changes nothing within a minute writes nothing; a rename, or a later rejoin, does.
        _ = try reopened.admitPeer(publicKey: keys[0], name: "renamed", network: network, tokenID: tokenID, now: now + 65)
        #expect(try reopened.peers(network: "home")[0].lastSeenAt == now + 60, "unchanged rejoin: no write")
        _ = try reopened.admitPeer(publicKey: keys[0], name: "laptop", network: network, tokenID: tokenID, now: now + 66)
        #expect(try reopened.peers(network: "home")[0].lastSeenAt == now + 66 && reopened.peers(network: "home")[0].info.name == "laptop")
        _ = try reopened.admitPeer(publicKey: keys[0], name: "laptop", network: network, tokenID: tokenID, now: now + 200)
        #expect(try reopened.peers(network: "home")[0].lastSeenAt == now + 200, "a minute later the sighting is recorded")
    }

    @Test("a /30 network runs out of addresses after two peers", arguments: StoreEngine.tested)
    func addressExhaustion(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "p2p", ipv4Prefix: IPv4Prefix("10.0.0.0/30"), maximumPeers: 2, now: now)
        let (tokenID, _) = try database.createToken(network: "p2p", label: "t", expiresAt: nil, now: now)
        let a = PrivateKey.generate().publicKey, b = PrivateKey.generate().publicKey, c = PrivateKey.generate().publicKey
        _ = try database.admitPeer(publicKey: a, name: "a", network: network, tokenID: tokenID, now: now)
        try database.revokePeer(network: "p2p", publicKey: a, now: now)
        _ = try database.admitPeer(publicKey: b, name: "b", network: network, tokenID: tokenID, now: now)
        #expect(try database.admitPeer(publicKey: c, name: "c", network: network, tokenID: tokenID, now: now) == .networkFull)
    }

    @Test("withdrawn grants: revoked or expired tokens, revoked peers, deleted networks; a CLI write moves the change marker", arguments: StoreEngine.tested)
    func withdrawnGrants(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let hub = try HubDatabase(location: location)
        let cli = try HubDatabase(location: location, announcesChanges: true)
        let home = try cli.createNetwork(name: "home", now: now)
        try cli.createNetwork(name: "work", now: now)
        let (live, _) = try cli.createToken(network: "home", label: "live", expiresAt: nil, now: now)
        let (revoked, _) = try cli.createToken(network: "home", label: "revoked", expiresAt: nil, now: now)
        let (expiring, _) = try cli.createToken(network: "home", label: "expiring", expiresAt: now + 10, now: now)
        let (workToken, _) = try cli.createToken(network: "work", label: "w", expiresAt: nil, now: now)
        let good = PrivateKey.generate().publicKey, bad = PrivateKey.generate().publicKey
        _ = try hub.admitPeer(publicKey: good, name: "g", network: home, tokenID: live, now: now)
        _ = try hub.admitPeer(publicKey: bad, name: "b", network: home, tokenID: live, now: now)
        let marker = try hub.changeMarker()
        try cli.revokeToken(network: "home", id: revoked, now: now)
        try cli.revokePeer(network: "home", publicKey: bad, now: now)
        try cli.deleteNetwork(name: "work")
        // PostgreSQL's marker is reused for 100 ms (the router asks several times per tick): poll, bounded.
        let deadline = ContinuousClock.now + .seconds(5)
        while try hub.changeMarker() == marker, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(try hub.changeMarker() != marker)
        let grants: Set<SessionGrant> = [
            SessionGrant(network: "home", tokenID: live, publicKey: good),
            SessionGrant(network: "home", tokenID: live, publicKey: nil),
            SessionGrant(network: "home", tokenID: revoked, publicKey: nil),
            SessionGrant(network: "home", tokenID: expiring, publicKey: good),
            SessionGrant(network: "home", tokenID: live, publicKey: bad),
            SessionGrant(network: "work", tokenID: workToken, publicKey: nil),
            SessionGrant(network: "work", tokenID: live, publicKey: nil),
            SessionGrant(network: "home", tokenID: SessionGrant.unknownToken, publicKey: good),  // still valid
            SessionGrant(network: "home", tokenID: SessionGrant.unknownToken, publicKey: bad),
        ]
        let withdrawn = try hub.withdrawnGrants(grants, now: now + 20)
        #expect(withdrawn == [
            SessionGrant(network: "home", tokenID: revoked, publicKey: nil): .tokenRevoked,
            SessionGrant(network: "home", tokenID: expiring, publicKey: good): .tokenRevoked,
            SessionGrant(network: "home", tokenID: live, publicKey: bad): .peerRevoked,
            SessionGrant(network: "work", tokenID: workToken, publicKey: nil): .networkDeleted,
            SessionGrant(network: "work", tokenID: live, publicKey: nil): .networkDeleted,
            SessionGrant(network: "home", tokenID: SessionGrant.unknownToken, publicKey: bad): .peerRevoked,
        ])
        #expect(try hub.networkCount() == 1)
    }

    @Test("the peers last connected: seen within the window of the latest last-seen time, revoked ones included, with their token",
          arguments: StoreEngine.tested)
    func peersLastConnected(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(path)
        let hub = try HubDatabase(location: location)
        #expect(try hub.peersLastConnected(window: 360).isEmpty, "no peers yet")
        let home = try hub.createNetwork(name: "home", now: now)
        let work = try hub.createNetwork(name: "work", now: now)
        let (homeToken, _) = try hub.createToken(network: "home", label: "h", expiresAt: nil, now: now)
        let (workToken, _) = try hub.createToken(network: "work", label: "w", expiresAt: nil, now: now)
        let keys = (0..<4).map { _ in PrivateKey.generate().publicKey }
        _ = try hub.admitPeer(publicKey: keys[0], name: "old", network: home, tokenID: homeToken, now: now)
        _ = try hub.admitPeer(publicKey: keys[1], name: "recent", network: home, tokenID: homeToken, now: now + 3_000)
        _ = try hub.admitPeer(publicKey: keys[2], name: "latest", network: work, tokenID: workToken, now: now + 3_300)
        _ = try hub.admitPeer(publicKey: keys[3], name: "revoked", network: home, tokenID: homeToken, now: now + 3_200)
        try hub.revokePeer(network: "home", publicKey: keys[3], now: now + 3_250)
        let (laterToken, _) = try hub.createToken(network: "home", label: "later", expiresAt: nil, now: now)
        _ = try hub.admitPeer(publicKey: keys[1], name: "recent", network: home, tokenID: laterToken, now: now + 3_010)
        let connected = try hub.peersLastConnected(window: 360)
        #expect(Set(connected) == [
            LastConnectedPeer(address: PeerAddress(network: "home", publicKey: keys[1]), tokenID: laterToken),
            LastConnectedPeer(address: PeerAddress(network: "work", publicKey: keys[2]), tokenID: workToken),
            LastConnectedPeer(address: PeerAddress(network: "home", publicKey: keys[3]), tokenID: homeToken),
        ], "each with the token it was last admitted with (keys[1]'s rejoin with another token is recorded at once)")
        #expect(connected.count == 3)
    }

    @Test("a PostgreSQL text array literal quotes every element and escapes quotes and backslashes")
    func postgresTextArray() {
        #expect(HubDatabase.postgresTextArray([]) == "{}")
        #expect(HubDatabase.postgresTextArray(["home", "a+b/c="]) == #"{"home","a+b/c="}"#)
        #expect(HubDatabase.postgresTextArray([#"say "hi"\"#, "x,y}"]) == #"{"say \"hi\"\\","x,y}"}"#)
    }
}
