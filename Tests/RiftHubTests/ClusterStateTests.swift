import RiftCluster
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Cluster state: session table, duplicates, dead hubs")
struct ClusterStateTests {
    private let key = PrivateKey.generate().publicKey

    private func peer(_ key: PublicKey) -> PeerInfo {
        PeerInfo(publicKey: key, name: "p", ipv4: IPv4Address("100.64.0.2")!, ipv6: IPv6Address("fd00::2")!)
    }

    private func session(_ hub: String, _ counter: Int, at milliseconds: Int64) -> ClusterSession {
        ClusterSession(network: "home", key: key, session: "\(hub)/\(counter)", claimedAtMilliseconds: milliseconds, peer: peer(key))
    }

    @Test("crossing claims: every hub keeps the later claim, whatever the order they arrive in")
    func crossingClaims() {
        let early = session("hub-a", 1, at: 1000), late = session("hub-b", 1, at: 1001)
        var first = ClusterState(hubID: "hub-c"), second = ClusterState(hubID: "hub-d")
        let outcomes = [first.applyClaim(early, from: "hub-a"), first.applyClaim(late, from: "hub-b"),
                        second.applyClaim(late, from: "hub-b"), second.applyClaim(early, from: "hub-a")]
        #expect(outcomes == [.joined, .moved(previous: early), .joined, .stale])
        #expect(first.remoteSession(key, in: "home") == late && second.remoteSession(key, in: "home") == late)
    }

    @Test("equal claim times are ordered by session id")
    func tieBreak() {
        let one = session("hub-a", 1, at: 5), two = session("hub-b", 1, at: 5)
        #expect(two.supersedes(one) && !one.supersedes(two))
    }

    @Test("a late session_ended of a replaced session does not remove its successor")
    func lateEnd() {
        var state = ClusterState(hubID: "hub-c")
        _ = state.applyClaim(session("hub-a", 1, at: 1), from: "hub-a")
        _ = state.applyClaim(session("hub-b", 4, at: 2), from: "hub-b")
        let stale = state.applyEnd(SessionEnd(network: "home", key: key, session: "hub-a/1", reason: .disconnected), from: "hub-a")
        #expect(stale == nil)
        #expect(state.remoteSession(key, in: "home")?.session == "hub-b/4")
        let current = state.applyEnd(SessionEnd(network: "home", key: key, session: "hub-b/4", reason: .disconnected), from: "hub-b")
        #expect(current?.session == "hub-b/4")
        #expect(state.remoteSession(key, in: "home") == nil)
    }

    @Test("a claim not named after its origin is ignored (a hub cannot claim for another)")
    func forgedOrigin() {
        var state = ClusterState(hubID: "hub-c")
        let outcome = state.applyClaim(session("hub-a", 1, at: 1), from: "hub-b")
        #expect(outcome == .stale)
        #expect(state.remoteSession(key, in: "home") == nil)
    }

    @Test("this hub's claim is newer than any known claim even when the other hub's clock is ahead")
    func ownClaimWins() {
        var state = ClusterState(hubID: "hub-c")
        _ = state.applyClaim(session("hub-a", 1, at: 9_000), from: "hub-a")
        let message = state.claim(peer(key), in: "home", nowMilliseconds: 1_000)
        guard case .sessionClaimed(let claimed) = message.body else { Issue.record("not a claim"); return }
        #expect(claimed.supersedes(session("hub-a", 1, at: 9_000)))
        #expect(state.remoteSession(key, in: "home") == nil)
    }

    @Test("duplicates are dropped per origin and stream; out-of-order sequences within the window are accepted once")
    func duplicates() {
        var state = ClusterState(hubID: "hub-c")
        func alive(_ hub: String, _ sequence: Int64) -> ClusterMessage {
            ClusterMessage(hub: hub, sequence: sequence, body: .hubAlive(HubAlive(broadcastSequence: sequence - 1, sessionCount: 0)))
        }
        var results: [(Bool, Bool)] = []
        for (hub, sequence) in [("hub-a", 2), ("hub-a", 1), ("hub-a", 2), ("hub-b", 2), ("hub-c", 9), ("hub-a", 2000), ("hub-a", 900)] {
            let result = state.accept(alive(hub, Int64(sequence)), now: 0)
            results.append((result.isNew, result.newHub))
        }
        // new hub a; out of order within the window; duplicate; another origin has its own window; this hub's own
        // message ignored; far ahead; older than the window.
        #expect(results.map(\.0) == [true, true, false, true, false, true, false])
        #expect(results.map(\.1) == [true, false, false, true, false, false, false])
    }

    @Test("dead hubs: sessions removed after the deadline only while connected")
    func deadHubs() {
        var state = ClusterState(hubID: "hub-c")
        state.setConnected(true, now: 0)
        _ = state.accept(ClusterMessage(hub: "hub-a", sequence: 1, body: .sessionClaimed(session("hub-a", 1, at: 1))), now: 0)
        _ = state.applyClaim(session("hub-a", 1, at: 1), from: "hub-a")
        let beforeDeadline = state.removeDeadHubs(now: 4.9)
        #expect(beforeDeadline.isEmpty)
        state.setConnected(false, now: 5)
        let whileCut = state.removeDeadHubs(now: 20)
        #expect(whileCut.isEmpty)
        state.setConnected(true, now: 20)
        let afterReconnection = state.removeDeadHubs(now: 24)
        #expect(afterReconnection.isEmpty, "reconnecting counts every hub as heard")
        let afterDeadline = state.removeDeadHubs(now: 25)
        #expect(afterDeadline.map(\.session) == ["hub-a/1"])
        #expect(state.remoteSession(key, in: "home") == nil)
    }

    @Test("snapshots are split into parts of at most the maximum")
    func snapshotParts() {
        var state = ClusterState(hubID: "hub-c")
        for _ in 0..<(SessionsSnapshot.maximumSessionsPerPart + 1) {
            _ = state.claim(peer(PrivateKey.generate().publicKey), in: "home", nowMilliseconds: 1)
        }
        let parts = state.snapshot()
        let sizes = parts.map { message -> Int in if case .sessionsSnapshot(let part) = message.body { part.sessions.count } else { -1 } }
        #expect(sizes == [SessionsSnapshot.maximumSessionsPerPart, 1])
    }

    @Test("hub names: validation, the host-derived default, the per-start suffix")
    func identity() {
        #expect(ClusterIdentity.isValidName("hub-1_a") && !ClusterIdentity.isValidName("Hub.1") && !ClusterIdentity.isValidName(""))
        #expect(ClusterIdentity.defaultName(hostName: "Web_01.example.org") == "web_01")
        #expect(ClusterIdentity.defaultName(hostName: "") == "hub")
        let id = ClusterIdentity.incarnation(of: "hub-1")
        #expect(id.hasPrefix("hub-1-") && id.count == 14 && id != ClusterIdentity.incarnation(of: "hub-1"))
        #expect((try? ClusterMessage.checkHubID(ClusterIdentity.incarnation(of: String(repeating: "a", count: 55))) ) != nil)
    }
}
