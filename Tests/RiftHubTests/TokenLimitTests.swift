import Foundation
import RiftCrypto
@testable import RiftHub
import RiftProtocol
import Testing

@Suite("Per-device and ephemeral tokens")
struct TokenLimitTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenlimits-\(UUID().uuidString)").path
    private let now: Int64 = 1_700_000_000

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    @Test("a single-use token admits one key, which may come back; a second key is refused, even one already in the network", arguments: StoreEngine.tested)
    func singleUse(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "home", now: now)
        let (single, _) = try database.createToken(network: "home", label: "phone", expiresAt: nil,
                                                   limits: TokenLimits(maximumKeys: 1, ephemeral: false), now: now)
        let (open, _) = try database.createToken(network: "home", label: "shared", expiresAt: nil, now: now)
        let phone = PrivateKey.generate().publicKey, other = PrivateKey.generate().publicKey
        guard case .admitted = try database.admitPeer(publicKey: phone, name: "phone", network: network, tokenID: single, now: now) else {
            Issue.record("first key refused"); return
        }
        #expect(try database.admitPeer(publicKey: other, name: "copy", network: network, tokenID: single, now: now + 1)
            == .tokenExhausted(maximumKeys: 1))
        // The refused key joins with an ordinary token; then, within the unchanged-join window, it tries the single-use
        // token again: the fast path must not let it in.
        guard case .admitted = try database.admitPeer(publicKey: other, name: "copy", network: network, tokenID: open, now: now + 2) else {
            Issue.record("ordinary token refused"); return
        }
        #expect(try database.admitPeer(publicKey: other, name: "copy", network: network, tokenID: single, now: now + 3)
            == .tokenExhausted(maximumKeys: 1))
        for later in [now + 4, now + 500] {
            guard case .admitted = try database.admitPeer(publicKey: phone, name: "phone", network: network, tokenID: single, now: later) else {
                Issue.record("the token's own key refused at \(later)"); return
            }
        }
        let limits = try database.tokenLimits(network: "home")
        #expect(limits[single]?.keysAdmitted == 1 && limits[single]?.limits.maximumKeys == 1)
        #expect(limits[open] == nil, "an ordinary token has no limits row")
    }

    @Test("ephemeral peers are removed once gone past the cutoff, never while connected; permanent and revoked peers stay", arguments: StoreEngine.tested)
    func ephemeralRemoval(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "ci", now: now)
        let (ephemeral, _) = try database.createToken(network: "ci", label: "runners", expiresAt: nil,
                                                      limits: TokenLimits(maximumKeys: nil, ephemeral: true), now: now)
        let (permanent, _) = try database.createToken(network: "ci", label: "server", expiresAt: nil, now: now)
        let runner = PrivateKey.generate().publicKey, busy = PrivateKey.generate().publicKey, revoked = PrivateKey.generate().publicKey
        let server = PrivateKey.generate().publicKey
        for key in [runner, busy, revoked] {
            _ = try database.admitPeer(publicKey: key, name: "runner", network: network, tokenID: ephemeral, now: now)
        }
        _ = try database.admitPeer(publicKey: server, name: "server", network: network, tokenID: permanent, now: now)
        try database.setPeerTags(network: "ci", publicKey: runner, tags: ["ci"])
        try database.revokePeer(network: "ci", publicKey: revoked, now: now + 1)
        #expect(try database.removeStaleEphemeralPeers(lastSeenBefore: now) { _ in false }.isEmpty, "not stale yet")
        let removed = try database.removeStaleEphemeralPeers(lastSeenBefore: now + 10) { $0.publicKey == busy }
        #expect(removed == [PeerAddress(network: "ci", publicKey: runner)])
        #expect(Set(try database.peers(network: "ci").map(\.info.publicKey)) == [busy, revoked, server])
        #expect(try database.accessControl(network: "ci").tags[runner] == nil, "its tags went with it")
        // It may come back (a new row, ephemeral again).
        guard case .admitted = try database.admitPeer(publicKey: runner, name: "runner", network: network, tokenID: ephemeral, now: now + 20) else {
            Issue.record("removed ephemeral peer cannot rejoin"); return
        }
        #expect(try database.removeStaleEphemeralPeers(lastSeenBefore: now + 30) { _ in false }.map(\.publicKey).sorted() == [busy, runner].sorted())
    }

    @Test("addresses freed by removed ephemeral peers are reused once the prefix is used up", arguments: StoreEngine.tested)
    func addressReuse(engine: StoreEngine) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let database = try HubDatabase(location: location)
        let network = try database.createNetwork(name: "tiny", ipv4Prefix: IPv4Prefix("10.0.0.0/29"), maximumPeers: 6, now: now)
        let (ephemeral, _) = try database.createToken(network: "tiny", label: "runners", expiresAt: nil,
                                                      limits: TokenLimits(maximumKeys: nil, ephemeral: true), now: now)
        var addresses: [String] = []
        for round in 0..<3 {
            for _ in 0..<6 {
                guard case .admitted(let info) = try database.admitPeer(publicKey: PrivateKey.generate().publicKey, name: "r",
                                                                        network: network, tokenID: ephemeral, now: now + Int64(round * 100)) else {
                    Issue.record("round \(round): refused"); return
                }
                addresses.append(info.ipv4.description)
            }
            #expect(try database.removeStaleEphemeralPeers(lastSeenBefore: now + Int64(round * 100) + 1) { _ in false }.count == 6)
        }
        #expect(Set(addresses) == Set((1...6).map { "10.0.0.\($0)" }), "three rounds of six share the six addresses")
    }

    @Test("the admin CLI creates, describes and lists limited tokens; bad limits are refused")
    func administration() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let admin = try HubAdministration(databasePath: directory + "/hub.db", now: { 1_700_000_000 })
        _ = try admin.createNetwork(name: "home", ipv4Prefix: nil, ipv6Prefix: nil, maximumPeers: nil)
        let created = try admin.createToken(network: "home", label: "phone", expires: nil, limits: TokenLimits(maximumKeys: 1, ephemeral: false))
        #expect(created.contains("single-use: admits one key"))
        _ = try admin.createToken(network: "home", label: "ci", expires: nil, limits: TokenLimits(maximumKeys: 5, ephemeral: true))
        _ = try admin.createToken(network: "home", label: "laptop", expires: nil)
        let listed = try admin.listTokens(network: "home")
        #expect(listed.contains("0/1") && listed.contains("0/5, ephemeral") && listed.contains("any"))
        #expect(throws: HubStoreError.self) {
            try admin.createToken(network: "home", label: "x", expires: nil, limits: TokenLimits(maximumKeys: 0, ephemeral: false))
        }
        let database = try HubDatabase(path: directory + "/hub.db")
        let network = try #require(try database.networkSettings(named: "home"))
        let phoneToken = try #require(try database.tokens(network: "home").first { $0.label == "phone" }?.id)
        _ = try database.admitPeer(publicKey: PrivateKey.generate().publicKey, name: "phone", network: network, tokenID: phoneToken, now: 1_700_000_001)
        let after = try admin.listTokens(network: "home")
        #expect(after.contains("used up") && after.contains("1/1"))
    }
}

@Suite("Routing core: per-device and ephemeral tokens")
struct HubRouterTokenLimitTests {
    @Test("a second key on a single-use token gets token_exhausted and close 4403; the first keeps working")
    func exhausted() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home", id: "single")
        hub.directory.tokenLimits["single"] = TokenLimits(maximumKeys: 1, ephemeral: false)
        let phone = PrivateKey.generate()
        #expect(hub.join(network: "home", token: token, key: phone).1 != nil)
        let connection = hub.open(network: "home", token: token)
        let challenge = hub.challenge(connection)!
        hub.send(connection, hub.hello(challenge, network: "home", key: PrivateKey.generate(), name: "copy"))
        #expect(errorCodes(hub.take(connection)) == ["token_exhausted"])
        #expect(hub.closeCodes[connection] == HubCloseCode.forbidden)
        #expect(ErrorCode.tokenExhausted.isPermanent, "the agent stops and says why instead of retrying")
        #expect(hub.join(network: "home", token: token, key: phone).1 != nil, "the admitted device rejoins")
    }

    @Test("an ephemeral peer is removed after the grace once gone, not while connected and not within the grace")
    func ephemeralSweep() {
        let hub = RouterHarness(configure: { $0.ephemeralGraceSeconds = 60 })
        hub.directory.addNetwork("ci")
        let token = hub.directory.addToken(network: "ci", id: "runners")
        hub.directory.tokenLimits["runners"] = TokenLimits(maximumKeys: nil, ephemeral: true)
        let leaving = PrivateKey.generate(), staying = PrivateKey.generate()
        let (connection, welcome) = hub.join(network: "ci", token: token, key: leaving)
        #expect(welcome != nil)
        let (stayingConnection, stayingWelcome) = hub.join(network: "ci", token: token, key: staying)
        #expect(stayingWelcome != nil)
        hub.close(connection)
        #expect(hub.take(stayingConnection) == [.peerLeft(PeerLeft(publicKey: leaving.publicKey, reason: "disconnected"))])
        hub.clock.advance(30)
        hub.tick()
        #expect(hub.directory.peers["ci"]?[leaving.publicKey] != nil, "within the grace")
        #expect(hub.take(stayingConnection).isEmpty)
        hub.clock.advance(40)
        hub.tick()
        #expect(hub.directory.peers["ci"]?[leaving.publicKey] == nil, "gone longer than the grace: removed")
        #expect(hub.directory.peers["ci"]?[staying.publicKey] != nil, "connected: kept, whatever its last-seen time")
        #expect(hub.router.metrics.ephemeralPeersRemoved == 1)
        // Its address is free for the next peer: a tunnel kept to it since it left (PROTOCOL.md §6.6) must go now.
        #expect(hub.take(stayingConnection) == [.peerLeft(PeerLeft(publicKey: leaving.publicKey, reason: "revoked"))])
        hub.clock.advance(60)
        hub.tick()
        #expect(hub.take(stayingConnection).isEmpty, "announced once")
    }
}
