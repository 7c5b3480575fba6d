import RiftCluster
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Cluster state: updates of a session, snapshot generations, lost broadcasts")
struct ClusterStateRepairTests {
    private func peer(_ key: PublicKey, name: String = "p") -> PeerInfo {
        PeerInfo(publicKey: key, name: name, ipv4: IPv4Address("100.64.0.2")!, ipv6: IPv6Address("fd00::2")!)
    }

    private func session(_ key: PublicKey, _ hub: String = "hub-a", _ counter: Int = 1, name: String = "p") -> ClusterSession {
        ClusterSession(network: "home", key: key, session: "\(hub)/\(counter)", claimedAtMilliseconds: 10, peer: peer(key, name: name))
    }

    private func part(_ id: Int64, _ index: Int64, asOf: Int64, _ sessions: [ClusterSession], more: Bool) -> SessionsSnapshot {
        SessionsSnapshot(id: id, part: index, broadcastSequence: asOf, sessions: sessions, more: more)
    }

    private func alive(_ hub: String, _ sequence: Int64) -> ClusterMessage {
        ClusterMessage(hub: hub, sequence: sequence, body: .hubAlive(HubAlive(broadcastSequence: sequence - 1, sessionCount: 0)))
    }

    @Test("the same session claimed again with a changed peer is an update; an unchanged repeat or an older copy is stale")
    func updateOfSameSession() {
        let key = PrivateKey.generate().publicKey
        var state = ClusterState(hubID: "hub-c")
        let first = session(key)
        #expect(state.applyClaim(first, from: "hub-a", sequence: 3) == .joined)
        #expect(state.applyClaim(first, from: "hub-a", sequence: 4) == .stale, "nothing changed")
        let renamed = session(key, name: "printer")
        #expect(state.applyClaim(renamed, from: "hub-a", sequence: 5) == .updated(previous: first))
        #expect(state.remotePeers(in: "home").map(\.name) == ["printer"])
        // A snapshot taken before the rename (as of sequence 4) arrives late: it does not bring the old name back.
        let late = state.applySnapshot(part(1, 0, asOf: 4, [first], more: false), from: "hub-a")
        #expect(late.claims.map { $0.outcome } == [.stale] && late.removed.isEmpty)
        #expect(state.remotePeers(in: "home").map(\.name) == ["printer"])
    }

    @Test("this hub's own update is published as a claim of the same session; unchanged or unknown peers publish nothing")
    func ownUpdate() throws {
        let key = PrivateKey.generate().publicKey
        var state = ClusterState(hubID: "hub-c")
        let claim = state.claim(peer(key), in: "home", nowMilliseconds: 1)
        #expect(state.update(peer(key), in: "home") == nil)
        #expect(state.update(peer(PrivateKey.generate().publicKey, name: "x"), in: "home") == nil)
        let changed = state.update(peer(key, name: "printer"), in: "home")
        let update = try #require(changed)
        guard case .sessionClaimed(let original) = claim.body, case .sessionClaimed(let updated) = update.body else {
            Issue.record("not claims"); return
        }
        #expect(updated.session == original.session && updated.claimedAtMilliseconds == original.claimedAtMilliseconds)
        #expect(updated.peer?.name == "printer" && update.sequence == claim.sequence + 1 && update.isBroadcast)
        var other = ClusterState(hubID: "hub-d")
        #expect(other.applyClaim(original, from: "hub-c", sequence: claim.sequence) == .joined)
        #expect(other.applyClaim(updated, from: "hub-c", sequence: update.sequence) == .updated(previous: original))
    }

    @Test("a complete snapshot removes the origin's sessions it does not list, keeps those claimed after it, touches no other hub's")
    func completeSnapshotIsAuthoritative() {
        let kept = PrivateKey.generate().publicKey, gone = PrivateKey.generate().publicKey
        let newer = PrivateKey.generate().publicKey, elsewhere = PrivateKey.generate().publicKey
        var state = ClusterState(hubID: "hub-c")
        _ = state.applyClaim(session(kept, "hub-a", 1), from: "hub-a", sequence: 1)
        _ = state.applyClaim(session(gone, "hub-a", 2), from: "hub-a", sequence: 2)
        _ = state.applyClaim(session(newer, "hub-a", 3), from: "hub-a", sequence: 9)  // claimed after the snapshot
        _ = state.applyClaim(session(elsewhere, "hub-b", 1), from: "hub-b", sequence: 1)
        let first = state.applySnapshot(part(7, 0, asOf: 8, [session(kept, "hub-a", 1)], more: true), from: "hub-a")
        #expect(first.removed.isEmpty, "nothing is removed before the last part")
        let last = state.applySnapshot(part(7, 1, asOf: 8, [], more: false), from: "hub-a")
        #expect(last.removed.map(\.key) == [gone])
        #expect(Set(state.remotePeers(in: "home").map(\.publicKey)) == [kept, newer, elsewhere])
    }

    @Test("a snapshot missing a part, or with parts of two snapshots interleaved, only adds")
    func incompleteSnapshotOnlyAdds() {
        let known = PrivateKey.generate().publicKey, added = PrivateKey.generate().publicKey
        var state = ClusterState(hubID: "hub-c")
        _ = state.applyClaim(session(known, "hub-a", 1), from: "hub-a", sequence: 1)
        // Part 1 of snapshot 4 was lost.
        _ = state.applySnapshot(part(4, 0, asOf: 5, [], more: true), from: "hub-a")
        let lost = state.applySnapshot(part(4, 2, asOf: 5, [session(added, "hub-a", 2)], more: false), from: "hub-a")
        #expect(lost.removed.isEmpty && lost.claims.map { $0.outcome } == [.joined])
        // Parts of snapshot 5 and 6 interleave: 6's last part does not complete 5.
        _ = state.applySnapshot(part(5, 0, asOf: 6, [], more: true), from: "hub-a")
        let mixed = state.applySnapshot(part(6, 1, asOf: 6, [], more: false), from: "hub-a")
        #expect(mixed.removed.isEmpty)
        #expect(Set(state.remotePeers(in: "home").map(\.publicKey)) == [known, added])
        // A later complete snapshot still works.
        let complete = state.applySnapshot(part(7, 0, asOf: 6, [session(added, "hub-a", 2)], more: false), from: "hub-a")
        #expect(complete.removed.map(\.key) == [known])
    }

    @Test("a broadcast gap asks for a snapshot after the grace unless the message arrives late; once until the retry time")
    func gapsAskForSnapshots() {
        var state = ClusterState(hubID: "hub-c")
        state.setConnected(true, now: 0)
        for sequence: Int64 in [1, 2, 4] { _ = state.accept(alive("hub-a", sequence), now: 0) }  // 3 missing
        #expect(state.snapshotRequestsDue(now: 0.4).isEmpty, "it may still arrive")
        _ = state.accept(alive("hub-a", 3), now: 0.45)
        #expect(state.snapshotRequestsDue(now: 0.6).isEmpty, "it arrived out of order")
        _ = state.accept(alive("hub-a", 7), now: 1)  // 5 and 6 lost
        _ = state.accept(alive("hub-a", 6), now: 1.1)
        #expect(state.snapshotRequestsDue(now: 1.6) == ["hub-a"])
        #expect(state.snapshotRequestsDue(now: 2).isEmpty, "asked already")
        #expect(state.snapshotRequestsDue(now: 4.7) == ["hub-a"], "no snapshot came: asked again")
        _ = state.applySnapshot(part(1, 0, asOf: 7, [], more: false), from: "hub-a")
        #expect(state.snapshotRequestsDue(now: 9).isEmpty, "a complete snapshot as of the gap repairs it")
    }

    @Test("no snapshot is asked for while the bus is down; after reconnecting every known hub is asked")
    func reconnectionAsksEveryone() {
        var state = ClusterState(hubID: "hub-c")
        state.setConnected(true, now: 0)
        _ = state.accept(alive("hub-b", 1), now: 0)
        _ = state.accept(alive("hub-a", 1), now: 0)
        _ = state.accept(alive("hub-a", 3), now: 0)
        state.setConnected(false, now: 0.1)
        #expect(state.snapshotRequestsDue(now: 2).isEmpty)
        state.setConnected(true, now: 3)
        #expect(state.requestSnapshotsFromEveryone(now: 3) == ["hub-a", "hub-b"])
        #expect(state.snapshotRequestsDue(now: 3.5).isEmpty, "already asked")
    }

    @Test("signals go to the subject of the hub holding the recipient; a forwarded signal says so")
    func signalSubjects() throws {
        let key = PrivateKey.generate().publicKey
        var state = ClusterState(hubID: "hub-c")
        let relayed = RelayedSignal(kind: .offer, from: PrivateKey.generate().publicKey, sealed: SealedBox(nonce: [UInt8](repeating: 1, count: 24), ciphertext: [UInt8](repeating: 2, count: 20)))
        #expect(state.signal(relayed, to: key, in: "home") == nil)
        _ = state.applyClaim(session(key, "hub-a", 1), from: "hub-a")
        let found = state.signal(relayed, to: key, in: "home", forwarded: true)
        let (subject, message) = try #require(found)
        #expect(subject == ClusterSubject.signals(hubID: "hub-a"))
        #expect(message.body == .signal(ClusterSignal(network: "home", to: key, signal: relayed, forwarded: true)))
    }
}
